/// Builds one compact JSON text, escaping every string so that log text cannot break out of it
/// (control characters, DEL, U+2028/U+2029 are `\u` escapes; no raw newline can appear).
public struct JSONWriter: Sendable {
    public private(set) var text = ""
    private var needsComma: [Bool] = [false]

    public init() {}

    private mutating func separate() {
        if needsComma[needsComma.count - 1] { text.append(",") }
        needsComma[needsComma.count - 1] = true
    }

    /// Writes the comma (when needed) and the key of the value that follows.
    private mutating func valuePrefix(_ key: String?) {
        separate()
        if let key {
            Self.appendQuoted(key, to: &text)
            text.append(":")
        }
    }

    public mutating func beginObject(_ key: String? = nil) {
        valuePrefix(key)
        text.append("{")
        needsComma.append(false)
    }

    public mutating func endObject() {
        needsComma.removeLast()
        text.append("}")
    }

    public mutating func beginArray(_ key: String? = nil) {
        valuePrefix(key)
        text.append("[")
        needsComma.append(false)
    }

    public mutating func endArray() {
        needsComma.removeLast()
        text.append("]")
    }

    public mutating func string(_ key: String? = nil, _ value: String) {
        valuePrefix(key)
        Self.appendQuoted(value, to: &text)
    }

    public mutating func optionalString(_ key: String, _ value: String?) {
        if let value { string(key, value) } else { null(key) }
    }

    public mutating func number(_ key: String? = nil, _ value: Double, decimals: Int = 4) {
        valuePrefix(key)
        text.append(Self.formatNumber(value, decimals: decimals))
    }

    public mutating func integer(_ key: String? = nil, _ value: Int64) {
        valuePrefix(key)
        text.append(String(value))
    }

    public mutating func bool(_ key: String? = nil, _ value: Bool) {
        valuePrefix(key)
        text.append(value ? "true" : "false")
    }

    public mutating func null(_ key: String? = nil) {
        valuePrefix(key)
        text.append("null")
    }

    /// Inserts already-encoded JSON.
    public mutating func raw(_ key: String? = nil, _ json: String) {
        valuePrefix(key)
        text.append(json)
    }

    /// A finite decimal with at most `decimals` fraction digits, trailing zeros trimmed but one kept (`56.0`).
    public static func formatNumber(_ value: Double, decimals: Int = 4) -> String {
        guard value.isFinite else { return "null" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if rounded == rounded.rounded(), abs(rounded) < 1e15 {
            return String(Int64(rounded)) + ".0"
        }
        var s = String(rounded)
        if s.contains("e") { return s }
        while s.hasSuffix("0") && !s.hasSuffix(".0") { s.removeLast() }
        return s
    }

    public static func appendQuoted(_ value: String, to out: inout String) {
        out.append("\"")
        if !needsEscaping(value) {
            out.append(value)
            out.append("\"")
            return
        }
        var chunkStart = value.unicodeScalars.startIndex
        var index = chunkStart
        let scalars = value.unicodeScalars
        while index < scalars.endIndex {
            let s = scalars[index]
            let v = s.value
            let escape: String?
            switch v {
            case 0x22: escape = "\\\""
            case 0x5C: escape = "\\\\"
            case 0x0A: escape = "\\n"
            case 0x0D: escape = "\\r"
            case 0x09: escape = "\\t"
            case 0..<0x20, 0x7F, 0x80..<0xA0, 0x2028, 0x2029:
                let hex = String(v, radix: 16)
                escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escape = nil
            }
            if let escape {
                out.unicodeScalars.append(contentsOf: scalars[chunkStart..<index])
                out.append(escape)
                chunkStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        out.unicodeScalars.append(contentsOf: scalars[chunkStart..<scalars.endIndex])
        out.append("\"")
    }

    /// Whether `value` holds anything ``appendQuoted(_:to:)`` escapes: ASCII controls, quote, backslash,
    /// DEL, C1 controls (UTF-8 C2 80–9F), U+2028 and U+2029 (E2 80 A8/A9). One pass over the bytes.
    static func needsEscaping(_ value: String) -> Bool {
        var utf8 = value.utf8
        let check = { (bytes: UnsafeBufferPointer<UInt8>) -> Bool in
            var i = 0
            let n = bytes.count
            while i < n {
                let b = bytes[i]
                if b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F { return true }
                if b == 0xC2, i + 1 < n, bytes[i + 1] < 0xA0 { return true }
                if b == 0xE2, i + 2 < n, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9 { return true }
                i += 1
            }
            return false
        }
        if let answer = utf8.withContiguousStorageIfAvailable(check) { return answer }
        var copy = value
        copy.makeContiguousUTF8()
        utf8 = copy.utf8
        return utf8.withContiguousStorageIfAvailable(check) ?? true
    }
}
