import Foundation

/// The binary form of `tail`'s checkpoints: the pipeline's live state is saved with every batch, and
/// Foundation's JSON encoder, which boxes every value and prints every number, was most of a commit's
/// cost. Codable values are written in order:
///
/// - a keyed container: tag `0x10`, then per member its key (a length byte and UTF-8) and its value,
///   framed by a 4-byte little-endian length;
/// - an unkeyed container: tag `0x11`, then each element framed the same way;
/// - a scalar: a tag naming its kind (`0x00` nil, `0x01` Bool, `0x02` signed, `0x03` unsigned, `0x04`
///   Double, `0x05` String, `0x06`/`0x07` 128-bit signed/unsigned, for IPv6 addresses) and its
///   little-endian bytes (a string's UTF-8 fills the frame);
/// - arrays of integers, doubles, booleans (a byte each) and `Data` as one tag and raw bytes.
///
/// Members are found by key, so a field added later decodes as absent from an older checkpoint and a
/// field dropped later is skipped. ``decode(_:from:)`` also reads the JSON checkpoints of earlier versions.
enum CheckpointCoder {
    /// Starts every binary checkpoint; JSON ones start with `{`.
    static let magic: [UInt8] = Array("CTCK".utf8) + [1]

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let writer = Writer()
        writer.bytes = magic
        try writer.write(value, depth: 0)
        writer.close(from: 0)
        return Data(writer.bytes)
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        guard data.starts(with: magic) else { return try JSONDecoder().decode(type, from: data) }
        let bytes = [UInt8](data)
        return try Reader(bytes: bytes, range: magic.count..<bytes.count).decode(type)
    }

    enum Tag: UInt8 {
        case null = 0x00, bool, signed, unsigned, double, string, signed128, unsigned128
        case keyed = 0x10, unkeyed
        case uint64s = 0x20, int64s, int32s, ints, doubles, data, uint32s, bools
    }

    // MARK: Writing

    final class Writer {
        var bytes: [UInt8] = []
        /// Frames not yet closed: where their length goes, and the depth of the container that opened them.
        private var open: [(offset: Int, depth: Int)] = []

        /// Closes the frames opened at `depth` or deeper: the container at `depth` moves to its next
        /// member (or ends), so every value written before is complete.
        func close(from depth: Int) {
            while let last = open.last, last.depth >= depth {
                open.removeLast()
                let length = UInt32(bytes.count - last.offset - 4)
                withUnsafeBytes(of: length.littleEndian) { raw in
                    for i in 0..<4 { bytes[last.offset + i] = raw[i] }
                }
            }
        }

        func openFrame(depth: Int) {
            close(from: depth)
            open.append((bytes.count, depth))
            bytes.append(contentsOf: [0, 0, 0, 0])
        }

        func append<I: FixedWidthInteger>(_ tag: Tag, _ value: I) {
            bytes.append(tag.rawValue)
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }

        func append(_ value: String) {
            bytes.append(Tag.string.rawValue)
            bytes.append(contentsOf: value.utf8)
        }

        func appendRaw<E: FixedWidthInteger>(_ tag: Tag, _ values: [E]) {
            bytes.append(tag.rawValue)
            bytes.reserveCapacity(bytes.count + values.count * MemoryLayout<E>.size)
            for v in values { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        }

        /// One value at `depth` (its containers' members are framed at `depth`).
        func write<T: Encodable>(_ value: T, depth: Int) throws {
            // By static type (a metadata comparison), not by dynamic casts.
            if T.self == [UInt64].self {
                appendRaw(.uint64s, unsafeBitCast(value, to: [UInt64].self))
            } else if T.self == [Int64].self {
                appendRaw(.int64s, unsafeBitCast(value, to: [Int64].self))
            } else if T.self == [Int32].self {
                appendRaw(.int32s, unsafeBitCast(value, to: [Int32].self))
            } else if T.self == [UInt32].self {
                appendRaw(.uint32s, unsafeBitCast(value, to: [UInt32].self))
            } else if T.self == [Bool].self {
                appendRaw(.bools, unsafeBitCast(value, to: [Bool].self).map { UInt8($0 ? 1 : 0) })
            } else if T.self == [Int].self {
                appendRaw(.ints, unsafeBitCast(value, to: [Int].self).map { Int64($0) })
            } else if T.self == [Double].self {
                appendRaw(.doubles, unsafeBitCast(value, to: [Double].self).map(\.bitPattern))
            } else if T.self == Data.self {
                bytes.append(Tag.data.rawValue)
                bytes.append(contentsOf: unsafeBitCast(value, to: Data.self))
            } else {
                try value.encode(to: ValueEncoder(writer: self, depth: depth, start: bytes.count))
            }
        }
    }

    struct ValueEncoder: Encoder {
        let writer: Writer
        let depth: Int
        /// Where this value's bytes begin: a second request for a container adds to the first.
        let start: Int
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func begin(_ tag: Tag) {
            if writer.bytes.count == start { writer.bytes.append(tag.rawValue) }
        }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            begin(.keyed)
            return KeyedEncodingContainer(KeyedWriter<Key>(writer: writer, depth: depth))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            begin(.unkeyed)
            return UnkeyedWriter(writer: writer, depth: depth)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer {
            ValueWriter(writer: writer, depth: depth)
        }
    }

    struct KeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let writer: Writer
        let depth: Int
        var codingPath: [any CodingKey] { [] }

        func member(_ key: Key) -> ValueWriter {
            var name = key.stringValue
            writer.close(from: depth)
            name.withUTF8 { utf8 in
                // A length byte; 255 and a 4-byte length for longer keys (dictionary keys can be).
                if utf8.count < 255 {
                    writer.bytes.append(UInt8(utf8.count))
                } else {
                    writer.bytes.append(255)
                    withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { writer.bytes.append(contentsOf: $0) }
                }
                writer.bytes.append(contentsOf: utf8)
            }
            writer.openFrame(depth: depth)
            return ValueWriter(writer: writer, depth: depth + 1)
        }

        mutating func encodeNil(forKey key: Key) throws { member(key).writer.bytes.append(Tag.null.rawValue) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: String, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: Double, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: Float, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: Int, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: Int128, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode(_ value: UInt128, forKey key: Key) throws { try member(key).encode(value) }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try member(key).encode(value) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey>
        {
            let value = member(key)
            writer.bytes.append(Tag.keyed.rawValue)
            return KeyedEncodingContainer(KeyedWriter<NestedKey>(writer: writer, depth: value.depth))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let value = member(key)
            writer.bytes.append(Tag.unkeyed.rawValue)
            return UnkeyedWriter(writer: writer, depth: value.depth)
        }

        mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }

        mutating func superEncoder(forKey key: Key) -> any Encoder {
            let value = member(key)
            return ValueEncoder(writer: writer, depth: value.depth, start: writer.bytes.count)
        }
    }

    struct UnkeyedWriter: UnkeyedEncodingContainer {
        let writer: Writer
        let depth: Int
        var codingPath: [any CodingKey] { [] }
        var count = 0

        mutating func element() -> ValueWriter {
            count += 1
            writer.openFrame(depth: depth)
            return ValueWriter(writer: writer, depth: depth + 1)
        }

        mutating func encodeNil() throws { element().writer.bytes.append(Tag.null.rawValue) }
        mutating func encode(_ value: Bool) throws { try element().encode(value) }
        mutating func encode(_ value: String) throws { try element().encode(value) }
        mutating func encode(_ value: Double) throws { try element().encode(value) }
        mutating func encode(_ value: Float) throws { try element().encode(value) }
        mutating func encode(_ value: Int) throws { try element().encode(value) }
        mutating func encode(_ value: Int8) throws { try element().encode(value) }
        mutating func encode(_ value: Int16) throws { try element().encode(value) }
        mutating func encode(_ value: Int32) throws { try element().encode(value) }
        mutating func encode(_ value: Int64) throws { try element().encode(value) }
        mutating func encode(_ value: UInt) throws { try element().encode(value) }
        mutating func encode(_ value: UInt8) throws { try element().encode(value) }
        mutating func encode(_ value: UInt16) throws { try element().encode(value) }
        mutating func encode(_ value: UInt32) throws { try element().encode(value) }
        mutating func encode(_ value: UInt64) throws { try element().encode(value) }
        mutating func encode(_ value: Int128) throws { try element().encode(value) }
        mutating func encode(_ value: UInt128) throws { try element().encode(value) }
        mutating func encode<T: Encodable>(_ value: T) throws { try element().encode(value) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
            -> KeyedEncodingContainer<NestedKey>
        {
            let value = element()
            writer.bytes.append(Tag.keyed.rawValue)
            return KeyedEncodingContainer(KeyedWriter<NestedKey>(writer: writer, depth: value.depth))
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let value = element()
            writer.bytes.append(Tag.unkeyed.rawValue)
            return UnkeyedWriter(writer: writer, depth: value.depth)
        }

        mutating func superEncoder() -> any Encoder {
            let value = element()
            return ValueEncoder(writer: writer, depth: value.depth, start: writer.bytes.count)
        }
    }

    /// A scalar, or any value through its own `encode(to:)`.
    struct ValueWriter: SingleValueEncodingContainer {
        let writer: Writer
        let depth: Int
        var codingPath: [any CodingKey] { [] }

        mutating func encodeNil() throws { writer.bytes.append(Tag.null.rawValue) }
        func encode(_ value: Bool) throws { writer.bytes.append(Tag.bool.rawValue); writer.bytes.append(value ? 1 : 0) }
        func encode(_ value: String) throws { writer.append(value) }
        func encode(_ value: Double) throws { writer.append(.double, value.bitPattern) }
        func encode(_ value: Float) throws { writer.append(.double, Double(value).bitPattern) }
        func encode(_ value: Int) throws { writer.append(.signed, Int64(value)) }
        func encode(_ value: Int8) throws { writer.append(.signed, Int64(value)) }
        func encode(_ value: Int16) throws { writer.append(.signed, Int64(value)) }
        func encode(_ value: Int32) throws { writer.append(.signed, Int64(value)) }
        func encode(_ value: Int64) throws { writer.append(.signed, value) }
        func encode(_ value: UInt) throws { writer.append(.unsigned, UInt64(value)) }
        func encode(_ value: UInt8) throws { writer.append(.unsigned, UInt64(value)) }
        func encode(_ value: UInt16) throws { writer.append(.unsigned, UInt64(value)) }
        func encode(_ value: UInt32) throws { writer.append(.unsigned, UInt64(value)) }
        func encode(_ value: UInt64) throws { writer.append(.unsigned, value) }
        func encode(_ value: Int128) throws { writer.append(.signed128, value) }
        func encode(_ value: UInt128) throws { writer.append(.unsigned128, value) }
        func encode<T: Encodable>(_ value: T) throws { try writer.write(value, depth: depth) }
    }

    // MARK: Reading

    /// One value's bytes.
    struct Reader {
        let bytes: [UInt8]
        let range: Range<Int>

        var tag: Tag? { range.isEmpty ? nil : Tag(rawValue: bytes[range.lowerBound]) }
        var payload: Range<Int> { (range.lowerBound + 1)..<range.upperBound }

        func mismatch(_ expected: String) -> DecodingError {
            .dataCorrupted(
                .init(
                    codingPath: [],
                    debugDescription:
                        "checkpoint: expected \(expected) at byte \(range.lowerBound), found tag \(tag.map { "\($0)" } ?? "none")"
                ))
        }

        func fixed<I: FixedWidthInteger>(_ expected: Tag, as type: I.Type) throws -> I {
            guard tag == expected, payload.count == MemoryLayout<I>.size else { throw mismatch("\(expected)") }
            return bytes.withUnsafeBytes {
                I(littleEndian: $0.loadUnaligned(fromByteOffset: payload.lowerBound, as: I.self))
            }
        }

        func raw<E: FixedWidthInteger>(_ expected: Tag, as type: E.Type) throws -> [E] {
            let size = MemoryLayout<E>.size
            guard tag == expected, payload.count % size == 0 else { throw mismatch("\(expected)") }
            let start = payload.lowerBound
            return bytes.withUnsafeBytes { raw in
                (0..<payload.count / size).map {
                    E(littleEndian: raw.loadUnaligned(fromByteOffset: start + $0 * size, as: E.self))
                }
            }
        }

        func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
            let value: I?
            switch tag {
            case .signed: value = I(exactly: try fixed(.signed, as: Int64.self))
            case .unsigned: value = I(exactly: try fixed(.unsigned, as: UInt64.self))
            default: throw mismatch("an integer")
            }
            guard let value else { throw mismatch("an integer that fits \(I.self)") }
            return value
        }

        /// The frames of a container's members or elements, from `from` to the value's end.
        func frames(from start: Int, keyed: Bool) throws -> [(key: Range<Int>, value: Range<Int>)] {
            var out: [(key: Range<Int>, value: Range<Int>)] = []
            var i = start
            while i < range.upperBound {
                var key = i..<i
                if keyed {
                    var n = Int(bytes[i])
                    i += 1
                    if n == 255 {
                        guard i + 4 <= range.upperBound else { throw mismatch("a member's key") }
                        n = bytes.withUnsafeBytes {
                            Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
                        }
                        i += 4
                    }
                    guard i + n <= range.upperBound else { throw mismatch("a member's key") }
                    key = i..<(i + n)
                    i += n
                }
                guard i + 4 <= range.upperBound else { throw mismatch("a frame's length") }
                let n = bytes.withUnsafeBytes {
                    Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
                }
                guard i + 4 + n <= range.upperBound else { throw mismatch("a frame inside its container") }
                out.append((key, (i + 4)..<(i + 4 + n)))
                i += 4 + n
            }
            return out
        }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            if T.self == [UInt64].self { return unsafeBitCast(try raw(.uint64s, as: UInt64.self), to: T.self) }
            if T.self == [Int64].self { return unsafeBitCast(try raw(.int64s, as: Int64.self), to: T.self) }
            if T.self == [Int32].self { return unsafeBitCast(try raw(.int32s, as: Int32.self), to: T.self) }
            // Checkpoints of earlier versions hold these two as containers of scalars (read below).
            if T.self == [UInt32].self && tag == .uint32s {
                return unsafeBitCast(try raw(.uint32s, as: UInt32.self), to: T.self)
            }
            if T.self == [Bool].self && tag == .bools {
                return unsafeBitCast(try raw(.bools, as: UInt8.self).map { $0 != 0 }, to: T.self)
            }
            if T.self == [Int].self { return unsafeBitCast(try raw(.ints, as: Int64.self).map { Int($0) }, to: T.self) }
            if T.self == [Double].self {
                return unsafeBitCast(try raw(.doubles, as: UInt64.self).map { Double(bitPattern: $0) }, to: T.self)
            }
            if T.self == Data.self {
                guard tag == .data else { throw mismatch("data") }
                return unsafeBitCast(Data(bytes[payload]), to: T.self)
            }
            return try T(from: ValueDecoder(reader: self))
        }
    }

    struct ValueDecoder: Decoder {
        let reader: Reader
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            guard reader.tag == .keyed else { throw reader.mismatch("a keyed container") }
            return KeyedDecodingContainer(
                KeyedReader<Key>(
                    reader: reader, members: try reader.frames(from: reader.payload.lowerBound, keyed: true)))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            guard reader.tag == .unkeyed else { throw reader.mismatch("an unkeyed container") }
            return UnkeyedReader(
                reader: reader, elements: try reader.frames(from: reader.payload.lowerBound, keyed: false).map(\.value))
        }

        func singleValueContainer() throws -> any SingleValueDecodingContainer { ValueReader(reader: reader) }
    }

    struct KeyedReader<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let reader: Reader
        let members: [(key: Range<Int>, value: Range<Int>)]
        /// Where the next look-up starts: members are mostly asked for in the order they were written.
        let cursor = Cursor()
        var codingPath: [any CodingKey] { [] }

        final class Cursor {
            var next = 0
        }

        var allKeys: [Key] {
            members.compactMap { Key(stringValue: String(decoding: reader.bytes[$0.key], as: UTF8.self)) }
        }

        func value(_ key: Key) -> Reader? {
            var name = key.stringValue
            return name.withUTF8 { utf8 -> Reader? in
                let count = members.count
                for step in 0..<count {
                    let i = (cursor.next + step) % count
                    let m = members[i]
                    guard m.key.count == utf8.count else { continue }
                    let same =
                        utf8.isEmpty
                        || reader.bytes.withUnsafeBufferPointer { b in
                            memcmp(b.baseAddress! + m.key.lowerBound, utf8.baseAddress!, utf8.count) == 0
                        }
                    if same {
                        cursor.next = i + 1
                        return Reader(bytes: reader.bytes, range: m.value)
                    }
                }
                return nil
            }
        }

        func required(_ key: Key) throws -> ValueReader {
            guard let v = value(key) else {
                throw DecodingError.keyNotFound(
                    key, .init(codingPath: [], debugDescription: "checkpoint: no member \(key.stringValue)"))
            }
            return ValueReader(reader: v)
        }

        func contains(_ key: Key) -> Bool { value(key) != nil }
        func decodeNil(forKey key: Key) throws -> Bool { try required(key).decodeNil() }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try required(key).decode(type) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try required(key).decode(type) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try required(key).decode(type) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try required(key).decode(type) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try required(key).decode(type) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try required(key).decode(type) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try required(key).decode(type) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try required(key).decode(type) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try required(key).decode(type) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try required(key).decode(type) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try required(key).decode(type) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try required(key).decode(type) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try required(key).decode(type) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try required(key).decode(type) }
        func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 { try required(key).decode(type) }
        func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 { try required(key).decode(type) }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try required(key).decode(type) }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            try ValueDecoder(reader: required(key).reader).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try ValueDecoder(reader: required(key).reader).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder { try superDecoder(forKey: Key(stringValue: "super")!) }
        func superDecoder(forKey key: Key) throws -> any Decoder { ValueDecoder(reader: try required(key).reader) }
    }

    struct UnkeyedReader: UnkeyedDecodingContainer {
        let reader: Reader
        let elements: [Range<Int>]
        var codingPath: [any CodingKey] { [] }
        var currentIndex = 0
        var count: Int? { elements.count }
        var isAtEnd: Bool { currentIndex >= elements.count }

        mutating func next() throws -> ValueReader {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(
                    Any.self, .init(codingPath: [], debugDescription: "checkpoint: past a list's end"))
            }
            currentIndex += 1
            return ValueReader(reader: Reader(bytes: reader.bytes, range: elements[currentIndex - 1]))
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, Reader(bytes: reader.bytes, range: elements[currentIndex]).tag == .null else {
                return false
            }
            currentIndex += 1
            return true
        }

        mutating func decode(_ type: Bool.Type) throws -> Bool { try next().decode(type) }
        mutating func decode(_ type: String.Type) throws -> String { try next().decode(type) }
        mutating func decode(_ type: Double.Type) throws -> Double { try next().decode(type) }
        mutating func decode(_ type: Float.Type) throws -> Float { try next().decode(type) }
        mutating func decode(_ type: Int.Type) throws -> Int { try next().decode(type) }
        mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().decode(type) }
        mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().decode(type) }
        mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().decode(type) }
        mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().decode(type) }
        mutating func decode(_ type: UInt.Type) throws -> UInt { try next().decode(type) }
        mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().decode(type) }
        mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().decode(type) }
        mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().decode(type) }
        mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().decode(type) }
        mutating func decode(_ type: Int128.Type) throws -> Int128 { try next().decode(type) }
        mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try next().decode(type) }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            try ValueDecoder(reader: next().reader).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            try ValueDecoder(reader: next().reader).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder { ValueDecoder(reader: try next().reader) }
    }

    struct ValueReader: SingleValueDecodingContainer {
        let reader: Reader
        var codingPath: [any CodingKey] { [] }

        func decodeNil() -> Bool { reader.tag == .null }

        func decode(_ type: Bool.Type) throws -> Bool {
            guard reader.tag == .bool, reader.payload.count == 1 else { throw reader.mismatch("a Bool") }
            return reader.bytes[reader.payload.lowerBound] != 0
        }

        func decode(_ type: String.Type) throws -> String {
            guard reader.tag == .string else { throw reader.mismatch("a string") }
            return String(decoding: reader.bytes[reader.payload], as: UTF8.self)
        }

        func decode(_ type: Double.Type) throws -> Double {
            Double(bitPattern: try reader.fixed(.double, as: UInt64.self))
        }
        func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
        func decode(_ type: Int.Type) throws -> Int { try reader.integer(type) }
        func decode(_ type: Int8.Type) throws -> Int8 { try reader.integer(type) }
        func decode(_ type: Int16.Type) throws -> Int16 { try reader.integer(type) }
        func decode(_ type: Int32.Type) throws -> Int32 { try reader.integer(type) }
        func decode(_ type: Int64.Type) throws -> Int64 { try reader.integer(type) }
        func decode(_ type: UInt.Type) throws -> UInt { try reader.integer(type) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try reader.integer(type) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try reader.integer(type) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try reader.integer(type) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try reader.integer(type) }
        func decode(_ type: Int128.Type) throws -> Int128 { try reader.fixed(.signed128, as: Int128.self) }
        func decode(_ type: UInt128.Type) throws -> UInt128 { try reader.fixed(.unsigned128, as: UInt128.self) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try reader.decode(type) }
    }
}
