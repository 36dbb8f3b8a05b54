import CJSONIndex

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The fields of one CSV record as spans of the buffer being decoded (nothing copied).
struct CSVRecord {
    var base: UnsafePointer<UInt8>
    var starts: UnsafeMutablePointer<Int32>
    var ends: UnsafeMutablePointer<Int32>
    var flags: UnsafeMutablePointer<UInt8>
    var count: Int
    /// The 1-based line the record starts on.
    var line: Int

    @inline(__always) func span(_ i: Int) -> ByteSpan {
        guard i >= 0 && i < count else { return .empty }
        return ByteSpan(start: Int(starts[i]), end: Int(ends[i]))
    }

    @inline(__always) func bytes(_ i: Int) -> UnsafeRawBufferPointer {
        let s = span(i)
        return UnsafeRawBufferPointer(start: base + s.start, count: s.count)
    }

    @inline(__always) func isEmpty(_ i: Int) -> Bool { span(i).isEmpty }

    /// The field as text: doubled quotes undone, invalid UTF-8 repaired.
    func string(_ i: Int) -> String {
        let raw = bytes(i)
        guard i >= 0 && i < count, flags[i] & 2 != 0 else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var k = 0
        while k < raw.count {
            out.append(raw[k])
            k += raw[k] == 0x22 && k + 1 < raw.count && raw[k + 1] == 0x22 ? 2 : 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether the field equals `literal`, ignoring ASCII case.
    func equalsIgnoringCase(_ i: Int, _ literal: StaticString) -> Bool {
        let raw = bytes(i)
        guard raw.count == literal.utf8CodeUnitCount else { return false }
        let lit = literal.utf8Start
        for k in 0..<raw.count where raw[k] | 0x20 != lit[k] | 0x20 { return false }
        return true
    }

    /// Whether the field starts with `literal`, ignoring ASCII case.
    func hasPrefixIgnoringCase(_ i: Int, _ literal: StaticString) -> Bool {
        let raw = bytes(i)
        guard raw.count >= literal.utf8CodeUnitCount else { return false }
        let lit = literal.utf8Start
        for k in 0..<literal.utf8CodeUnitCount where raw[k] | 0x20 != lit[k] | 0x20 { return false }
        return true
    }

    var malformedQuote: Bool {
        for i in 0..<count where flags[i] & 4 != 0 { return true }
        return false
    }

    var unclosedQuote: Bool { count > 0 && flags[0] & 8 != 0 }
}

/// Splits an RFC 4180 CSV text into records, one at a time, across buffer boundaries: quoted fields,
/// doubled quotes, commas and newlines inside quotes, LF or CRLF endings. The splitting itself is C
/// (`ccsv_record`), one pass over the bytes.
final class CSVRecordReader {
    private(set) var capacity = 256
    private var starts: UnsafeMutablePointer<Int32>
    private var ends: UnsafeMutablePointer<Int32>
    private var flags: UnsafeMutablePointer<UInt8>
    /// The line the next record starts on.
    var nextLine = 1

    init() {
        starts = .allocate(capacity: capacity)
        ends = .allocate(capacity: capacity)
        flags = .allocate(capacity: capacity)
    }

    deinit {
        starts.deallocate()
        ends.deallocate()
        flags.deallocate()
    }

    private func grow(to n: Int) {
        starts.deallocate()
        ends.deallocate()
        flags.deallocate()
        capacity = max(n, capacity * 2)
        starts = .allocate(capacity: capacity)
        ends = .allocate(capacity: capacity)
        flags = .allocate(capacity: capacity)
    }

    /// The record starting at `position`, and the offset after it; nil when the buffer ends inside it
    /// (and `isFinal` is false) or at its end.
    func next(_ base: UnsafePointer<UInt8>, count: Int, position: Int, isFinal: Bool) -> (CSVRecord, Int)? {
        guard position < count else { return nil }
        var fields: Int32 = 0
        var lines: Int32 = 0
        while true {
            let end = ccsv_record(
                base, count, position, isFinal ? 1 : 0, starts, ends, flags, Int32(capacity), &fields, &lines)
            if end < 0 { return nil }
            if Int(fields) > capacity {
                grow(to: Int(fields))
                continue
            }
            let record = CSVRecord(
                base: base, starts: starts, ends: ends, flags: flags, count: Int(fields), line: nextLine)
            nextLine += Int(lines)
            return (record, end)
        }
    }
}
