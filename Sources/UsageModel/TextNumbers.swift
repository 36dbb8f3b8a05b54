/// Texts numbered in the order first seen, each held once and compared by its bytes (``ExactText``: a text
/// held by number must come back byte for byte), with the last text numbered as each of `fields` fields
/// remembered: a run of records of one account or type compares its text with the last, without hashing
/// it. ``UsageLines``' texts in the readers and billed runs' in the sessionizer.
public struct TextNumbers: Sendable {
    private var texts: [String] = []
    private var numbers: [ExactText: UInt32] = [:]
    private var recent: [(text: String, number: UInt32)]

    public init(fields: Int) {
        recent = Array(repeating: ("", .max), count: fields)
    }

    /// How many texts are numbered.
    public var count: Int { texts.count }

    public subscript(number: UInt32) -> String { texts[Int(number)] }

    /// The number of `text` (added when new).
    public mutating func number(_ text: String) -> UInt32 {
        if let known = numbers[ExactText(text)] { return known }
        let number = UInt32(texts.count)
        texts.append(text)
        numbers[ExactText(text)] = number
        return number
    }

    /// The number of `text`, as field `field` last saw it or from the table.
    public mutating func number(_ text: String, field: Int) -> UInt32 {
        if recent[field].number != .max && ExactText.same(recent[field].text, text) { return recent[field].number }
        let number = number(text)
        recent[field] = (text, number)
        return number
    }
}
