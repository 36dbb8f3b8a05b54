/// The few fields chiptrail reads from AWS's XML answers (ListObjectsV2, errors, STS, SQS), found by
/// element name: the answers are flat and known, so no general XML parser is needed. Text is
/// unescaped (`&amp;`, `&#13;`, …).
struct XMLFields {
    let text: [UInt8]

    init(_ bytes: [UInt8]) { text = bytes }

    /// The text of the first `<name>` element.
    func first(_ name: String) -> String? { all(name, limit: 1).first }

    /// The raw inner XML of every `<name>` element (for repeated blocks such as `<Contents>`).
    func blocks(_ name: String) -> [XMLFields] {
        ranges(name, limit: .max).map { XMLFields(Array(text[$0])) }
    }

    /// The text of every `<name>` element, unescaped.
    func all(_ name: String, limit: Int = .max) -> [String] {
        ranges(name, limit: limit).map { Self.unescape(text[$0]) }
    }

    private func ranges(_ name: String, limit: Int) -> [Range<Int>] {
        let open = Array("<\(name)".utf8)
        let close = Array("</\(name)>".utf8)
        var found: [Range<Int>] = []
        var i = 0
        while found.count < limit, let start = Self.find(open, in: text, from: i) {
            var j = start + open.count
            guard j < text.count else { break }
            // `<Name>` or `<Name attr="…">`, not `<NameOther>`.
            guard text[j] == UInt8(ascii: ">") || text[j] == UInt8(ascii: " ") || text[j] == UInt8(ascii: "/") else {
                i = j
                continue
            }
            while j < text.count && text[j] != UInt8(ascii: ">") { j += 1 }
            guard j < text.count else { break }
            if text[j - 1] == UInt8(ascii: "/") {  // <Name/>
                found.append((j + 1)..<(j + 1))
                i = j + 1
                continue
            }
            guard let end = Self.find(close, in: text, from: j + 1) else { break }
            found.append((j + 1)..<end)
            i = end + close.count
        }
        return found
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard needle.count <= haystack.count, from <= haystack.count - needle.count else { return nil }
        var i = from
        let first = needle[0]
        while i <= haystack.count - needle.count {
            if haystack[i] == first {
                var k = 1
                while k < needle.count && haystack[i + k] == needle[k] { k += 1 }
                if k == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    static func unescape(_ bytes: ArraySlice<UInt8>) -> String {
        guard bytes.contains(UInt8(ascii: "&")) else { return String(decoding: bytes, as: UTF8.self) }
        let text = String(decoding: bytes, as: UTF8.self)
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";"), rest.distance(from: amp, to: semi) <= 10 else {
                out += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                var scalar: Unicode.Scalar? = nil
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if entity.hasPrefix("#") {
                    scalar = UInt32(entity.dropFirst(1)).flatMap(Unicode.Scalar.init)
                }
                if let scalar { out.unicodeScalars.append(scalar) } else { out += "&\(entity);" }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
