/// Builds one compact JSON text, escaping every string so that log text cannot break out of it
/// (control characters, DEL, U+2028/U+2029 are `\u` escapes; no raw newline can appear).
public struct JSONWriter: Sendable {
    /// The text as UTF-8 bytes: appending bytes costs a fraction of appending `String`s piece by piece.
    private var bytes: [UInt8] = []
    private var needsComma: [Bool] = [false]

    public init() {
        bytes.reserveCapacity(2048)
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func appendText(_ s: String) {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    private mutating func separate() {
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    /// Writes the comma (when needed) and the key of the value that follows.
    private mutating func valuePrefix(_ key: String?) {
        separate()
        if let key {
            Self.appendQuoted(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
        }
    }

    public mutating func beginObject(_ key: String? = nil) {
        valuePrefix(key)
        bytes.append(UInt8(ascii: "{"))
        needsComma.append(false)
    }

    public mutating func endObject() {
        needsComma.removeLast()
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func beginArray(_ key: String? = nil) {
        valuePrefix(key)
        bytes.append(UInt8(ascii: "["))
        needsComma.append(false)
    }

    public mutating func endArray() {
        needsComma.removeLast()
        bytes.append(UInt8(ascii: "]"))
    }

    public mutating func string(_ key: String? = nil, _ value: String) {
        valuePrefix(key)
        Self.appendQuoted(value, to: &bytes)
    }

    public mutating func optionalString(_ key: String, _ value: String?) {
        if let value { string(key, value) } else { null(key) }
    }

    public mutating func number(_ key: String? = nil, _ value: Double, decimals: Int = 4) {
        valuePrefix(key)
        appendText(Self.formatNumber(value, decimals: decimals))
    }

    public mutating func integer(_ key: String? = nil, _ value: Int64) {
        valuePrefix(key)
        appendText(String(value))
    }

    public mutating func bool(_ key: String? = nil, _ value: Bool) {
        valuePrefix(key)
        if value { append("true") } else { append("false") }
    }

    public mutating func null(_ key: String? = nil) {
        valuePrefix(key)
        append("null")
    }

    /// Inserts already-encoded JSON.
    public mutating func raw(_ key: String? = nil, _ json: String) {
        valuePrefix(key)
        appendText(json)
    }

    /// A finite decimal with at most `decimals` fraction digits, trailing zeros trimmed but one kept (`56.0`).
    public static func formatNumber(_ value: Double, decimals: Int = 4) -> String {
        guard value.isFinite else { return "null" }
        // Beyond 1e15 there are no fraction digits to round (and scaling 1e308 would overflow to inf).
        if abs(value) >= 1e15 { return String(value) }
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

    /// `value` as a JSON string, quoted and escaped, appended to UTF-8 `out`: `"` and `\` escaped, `\n`
    /// `\r` `\t`, other ASCII controls, DEL, C1 controls and U+2028/U+2029 as `\u` escapes.
    static func appendQuoted(_ value: String, to out: inout [UInt8]) {
        var value = value
        out.append(UInt8(ascii: "\""))
        value.withUTF8 { b in
            var chunk = 0
            var i = 0
            let n = b.count
            while i < n {
                let c = b[i]
                // Printable ASCII but the quote and the backslash: the common case, copied as a run.
                if c >= 0x20 && c < 0x7F && c != 0x22 && c != 0x5C {
                    i += 1
                    continue
                }
                var escape: StaticString? = nil
                var code: UInt32? = nil
                var width = 1
                switch c {
                case 0x22: escape = "\\\""
                case 0x5C: escape = "\\\\"
                case 0x0A: escape = "\\n"
                case 0x0D: escape = "\\r"
                case 0x09: escape = "\\t"
                case 0..<0x20, 0x7F: code = UInt32(c)
                case 0xC2 where i + 1 < n && b[i + 1] < 0xA0:
                    code = UInt32(b[i + 1])  // U+0080–U+009F
                    width = 2
                case 0xE2 where i + 2 < n && b[i + 1] == 0x80 && (b[i + 2] == 0xA8 || b[i + 2] == 0xA9):
                    code = b[i + 2] == 0xA8 ? 0x2028 : 0x2029
                    width = 3
                default: break
                }
                if escape == nil && code == nil {
                    i += 1
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[chunk..<i]))
                if let escape {
                    escape.withUTF8Buffer { out.append(contentsOf: $0) }
                } else if let code {
                    out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u")])
                    for shift in stride(from: 12, through: 0, by: -4) {
                        let digit = UInt8(truncatingIfNeeded: code >> UInt32(shift) & 0xF)
                        out.append(digit < 10 ? 0x30 + digit : 0x57 + digit)  // 0-9, a-f
                    }
                }
                i += width
                chunk = i
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[chunk..<n]))
        }
        out.append(UInt8(ascii: "\""))
    }
}
