/// A value that packs into bytes for checkpoint arrays (``Packed``): keys (random 64-bit hashes) as
/// 8 little-endian bytes, counts and times as zigzag LEB128 varints (small values, one or two bytes),
/// flags as one byte.
public protocol PackableElement: Codable, Sendable {
    func pack(into bytes: inout [UInt8])
    /// The value at `i`, moving `i` past it; nil if the bytes end first.
    static func unpack(_ bytes: UnsafeBufferPointer<UInt8>, at i: inout Int) -> Self?
}

extension UInt64: PackableElement {
    public func pack(into bytes: inout [UInt8]) {
        withUnsafeBytes(of: littleEndian) { bytes.append(contentsOf: $0) }
    }

    public static func unpack(_ bytes: UnsafeBufferPointer<UInt8>, at i: inout Int) -> UInt64? {
        guard bytes.count - i >= 8 else { return nil }
        let v = UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + i).loadUnaligned(as: UInt64.self))
        i += 8
        return v
    }
}

/// Zigzag LEB128, shared by the signed integers.
enum Varint {
    static func append(_ value: Int64, to bytes: inout [UInt8]) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    static func read(_ bytes: UnsafeBufferPointer<UInt8>, at i: inout Int) -> Int64? {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while i < bytes.count, shift < 64 {
            let b = bytes[i]
            i += 1
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }
            shift += 7
        }
        return nil
    }
}

extension Int64: PackableElement {
    public func pack(into bytes: inout [UInt8]) { Varint.append(self, to: &bytes) }
    public static func unpack(_ bytes: UnsafeBufferPointer<UInt8>, at i: inout Int) -> Int64? { Varint.read(bytes, at: &i) }
}

extension Int32: PackableElement {
    public func pack(into bytes: inout [UInt8]) { Varint.append(Int64(self), to: &bytes) }
    public static func unpack(_ bytes: UnsafeBufferPointer<UInt8>, at i: inout Int) -> Int32? {
        Varint.read(bytes, at: &i).flatMap { Int32(exactly: $0) }
    }
}

extension Bool: PackableElement {
    public func pack(into bytes: inout [UInt8]) { bytes.append(self ? 1 : 0) }
    public static func unpack(_ bytes: UnsafeBufferPointer<UInt8>, at i: inout Int) -> Bool? {
        guard i < bytes.count, bytes[i] <= 1 else { return nil }
        i += 1
        return bytes[i - 1] == 1
    }
}

/// An array kept in a checkpoint as one base64 string of its packed elements instead of one JSON
/// value per element: `tail` saves its live state with every batch, and the identity graph, the
/// account keys and the activity hours are hundreds of thousands of numbers, which Foundation's
/// encoder boxes one at a time. Reads either form, so checkpoints written before the packing restore.
@propertyWrapper
public struct Packed<Element: PackableElement>: Codable, Sendable {
    public var wrappedValue: [Element]

    public init(wrappedValue: [Element]) {
        self.wrappedValue = wrappedValue
    }

    public func encode(to encoder: any Encoder) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(wrappedValue.count * 2)
        for v in wrappedValue { v.pack(into: &bytes) }
        var c = encoder.singleValueContainer()
        try c.encode(Base64.encode(bytes))
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        guard let text = try? c.decode(String.self) else {
            wrappedValue = try c.decode([Element].self)
            return
        }
        guard let bytes = Base64.decode(text), let values = Self.elements(of: bytes) else {
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "not packed \(Element.self) values (\(text.utf8.count) characters of base64)")
        }
        wrappedValue = values
    }

    static func elements(of bytes: [UInt8]) -> [Element]? {
        bytes.withUnsafeBufferPointer { b -> [Element]? in
            var out: [Element] = []
            var i = 0
            while i < b.count {
                guard let v = Element.unpack(b, at: &i) else { return nil }
                out.append(v)
            }
            return out
        }
    }
}

/// Lists of lists the same way: one base64 string holding, per list, its length (a varint) and then
/// its elements. Reads the plain nested-array form too.
@propertyWrapper
public struct PackedLists<Element: PackableElement>: Codable, Sendable {
    public var wrappedValue: [[Element]]

    public init(wrappedValue: [[Element]]) {
        self.wrappedValue = wrappedValue
    }

    public func encode(to encoder: any Encoder) throws {
        var bytes: [UInt8] = []
        for list in wrappedValue {
            Varint.append(Int64(list.count), to: &bytes)
            for v in list { v.pack(into: &bytes) }
        }
        var c = encoder.singleValueContainer()
        try c.encode(Base64.encode(bytes))
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        guard let text = try? c.decode(String.self) else {
            wrappedValue = try c.decode([[Element]].self)
            return
        }
        let lists = Base64.decode(text)?.withUnsafeBufferPointer { b -> [[Element]]? in
            var lists: [[Element]] = []
            var i = 0
            while i < b.count {
                guard let n = Varint.read(b, at: &i), n >= 0, n <= b.count - i else { return nil }
                var list: [Element] = []
                list.reserveCapacity(Int(n))
                for _ in 0..<n {
                    guard let v = Element.unpack(b, at: &i) else { return nil }
                    list.append(v)
                }
                lists.append(list)
            }
            return lists
        }
        guard let lists else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not packed lists of \(Element.self)")
        }
        wrappedValue = lists
    }
}

/// Standard base64 (RFC 4648, with padding), for ``Packed`` without Foundation.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        let length = (bytes.count + 2) / 3 * 4
        return String(unsafeUninitializedCapacity: length) { out in
            alphabet.withUnsafeBufferPointer { a in
                var o = 0
                var i = 0
                while i + 3 <= bytes.count {
                    let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                    out[o] = a[Int(v >> 18)]
                    out[o + 1] = a[Int(v >> 12 & 63)]
                    out[o + 2] = a[Int(v >> 6 & 63)]
                    out[o + 3] = a[Int(v & 63)]
                    i += 3
                    o += 4
                }
                let rest = bytes.count - i
                if rest > 0 {
                    let v = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
                    out[o] = a[Int(v >> 18)]
                    out[o + 1] = a[Int(v >> 12 & 63)]
                    out[o + 2] = rest == 2 ? a[Int(v >> 6 & 63)] : UInt8(ascii: "=")
                    out[o + 3] = UInt8(ascii: "=")
                }
            }
            return length
        }
    }

    /// The bytes of `text`, or nil if it is not padded base64.
    static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { t -> [UInt8]? in
            guard t.count % 4 == 0 else { return nil }
            if t.isEmpty { return [] }
            let padding = t[t.count - 1] == UInt8(ascii: "=") ? (t[t.count - 2] == UInt8(ascii: "=") ? 2 : 1) : 0
            let length = t.count / 4 * 3 - padding
            var valid = true
            let out = [UInt8](unsafeUninitializedCapacity: length) { out, count in
                values.withUnsafeBufferPointer { table in
                    var o = 0
                    var i = 0
                    while i < t.count {
                        let last = i + 4 == t.count
                        let c0 = table[Int(t[i])], c1 = table[Int(t[i + 1])]
                        let c2 = last && padding == 2 ? 0 : table[Int(t[i + 2])]
                        let c3 = last && padding >= 1 ? 0 : table[Int(t[i + 3])]
                        if (c0 | c1 | c2 | c3) & 0xC0 != 0 {
                            valid = false
                            break
                        }
                        let v = UInt32(c0) << 18 | UInt32(c1) << 12 | UInt32(c2) << 6 | UInt32(c3)
                        out[o] = UInt8(v >> 16)
                        if o + 1 < length { out[o + 1] = UInt8(v >> 8 & 0xFF) }
                        if o + 2 < length { out[o + 2] = UInt8(v & 0xFF) }
                        i += 4
                        o += 3
                    }
                }
                count = valid ? length : 0
            }
            return valid ? out : nil
        }
    }
}
