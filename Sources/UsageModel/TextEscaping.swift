/// Escaping of text that came from logs, so that it cannot forge lines in a terminal, a file or syslog.
public enum TextEscaping {
    /// Replaces control characters (C0, DEL, C1) and line separators with visible escapes (`\n`, `\x1b`, `\u2028`).
    public static func escapeForTerminal(_ text: String) -> String {
        var needs = false
        for scalar in text.unicodeScalars where isUnsafe(scalar) {
            needs = true
            break
        }
        if !needs { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isUnsafe(scalar) {
                let escaped: String
                switch scalar {
                case "\n": escaped = "\\n"
                case "\r": escaped = "\\r"
                case "\t": escaped = "\\t"
                default:
                    let hex = String(scalar.value, radix: 16)
                    escaped =
                        scalar.value < 0x100
                        ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                        : "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                }
                out.append(contentsOf: escaped.unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    @inline(__always)
    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || v == 0x7F || (v >= 0x80 && v < 0xA0) || v == 0x2028 || v == 0x2029
            || v == 0x202E || v == 0x202D || v == 0x2066 || v == 0x2067 || v == 0x2068 || v == 0x2069
    }
}
