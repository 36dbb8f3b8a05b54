public import CJSONIndex

// Public: `memcmp` is called from inlinable code (found otherwise only through CJSONIndex's headers,
// which a first build on an empty module cache may not have yet).
#if canImport(Glibc)
    public import Glibc
#elseif canImport(Darwin)
    public import Darwin
#endif

/// A byte range of the buffer being decoded.
public struct ByteSpan: Sendable, Equatable {
    public var start: Int
    public var end: Int

    @inlinable public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    @inlinable public var count: Int { end - start }
    @inlinable public var isEmpty: Bool { start >= end }
    public static let empty = ByteSpan(start: 0, end: 0)
}

/// Why a scan stopped.
public enum ScanFailure: Equatable, Sendable {
    /// The buffer ends before the value does: read more and try again.
    case incomplete
    /// The bytes are not JSON; `at` is the offset in the buffer, `reason` says what was expected.
    case malformed(at: Int, reason: String)
}

/// Byte-level JSON scanning over one contiguous buffer: finds values' extents without building them.
///
/// Every function leaves `position` after what it consumed and returns false on failure, with the
/// reason in `failure`. Newlines crossed outside strings are counted in `newlines`, so callers can
/// name the line of a record without a separate pass.
@usableFromInline
struct JSONScanner {
    @usableFromInline let base: UnsafePointer<UInt8>
    @usableFromInline let end: Int
    @usableFromInline var position: Int
    @usableFromInline var newlines = 0
    @usableFromInline var failure: ScanFailure = .incomplete
    /// Bitmaps of quotes, brackets and newlines of the buffer (see ``JSONIndex``).
    @usableFromInline let index: JSONIndex

    @inlinable init(base: UnsafePointer<UInt8>, start: Int, end: Int, index: JSONIndex) {
        self.base = base
        self.position = start
        self.end = end
        self.index = index
    }

    /// A scanner over `span` of the same buffer and index.
    @inlinable func scanner(over span: ByteSpan) -> JSONScanner {
        JSONScanner(base: base, start: span.start, end: span.end, index: index)
    }

    @inlinable subscript(_ i: Int) -> UInt8 { base[i] }

    @inlinable var atEnd: Bool { position >= end }

    /// Skips spaces, tabs, CR and LF (counting LF).
    @inlinable @inline(__always)
    mutating func skipWhitespace() {
        position = cjson_whitespace_end(base, position, end, &newlines)
    }

    @inlinable
    mutating func fail(_ reason: String) -> Bool {
        failure = .malformed(at: position, reason: reason)
        return false
    }

    @inlinable
    mutating func incomplete() -> Bool {
        failure = .incomplete
        return false
    }

    /// Consumes `byte` after optional whitespace.
    @inlinable @inline(__always)
    mutating func expect(_ byte: UInt8, _ what: String) -> Bool {
        skipWhitespace()
        guard position < end else { return incomplete() }
        guard base[position] == byte else { return fail("expected \(what)") }
        position += 1
        return true
    }

    /// At an opening quote: returns the span of the string's content (escapes left as they are;
    /// ``string(_:)`` resolves them).
    /// The closing quote is the next unescaped quote of the index: no byte of the string is read.
    /// A newline inside is malformed (JSON strings cannot hold one): one bad line cannot swallow the next.
    @inlinable @inline(__always)
    mutating func scanString(_ span: inout ByteSpan) -> Bool {
        let contentStart = position + 1
        guard let close = index.next(index.quotes, from: contentStart, limit: end) else {
            if index.any(index.newlines, from: contentStart, to: end) { return fail("unterminated string") }
            position = end
            return incomplete()
        }
        if index.any(index.newlines, from: contentStart, to: close) { return fail("unterminated string") }
        span = ByteSpan(start: contentStart, end: close)
        position = close + 1
        return true
    }

    /// Skips any value; for scalars, `span` receives the value's bytes.
    @inlinable
    mutating func skipValue(_ span: inout ByteSpan) -> Bool {
        skipWhitespace()
        guard position < end else { return incomplete() }
        let b = base[position]
        switch b {
        case 0x22:
            return scanString(&span)
        case 0x7B, 0x5B:
            let start = position
            guard skipContainer() else { return false }
            span = ByteSpan(start: start, end: position)
            return true
        default:
            let start = position
            var p = position
            while p < end {
                let c = base[p]
                if c == 0x2C || c == 0x7D || c == 0x5D || c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { break }
                p += 1
            }
            guard p < end else { return incomplete() }
            // true, false, null or a number (the rule the C fast path shares); another bare word is damage.
            guard cjson_bare_value(base + start, p - start) != 0 else { return fail("expected a value") }
            span = ByteSpan(start: start, end: p)
            position = p
            return true
        }
    }

    /// Skips an object or array starting at `position`: walks the bracket bits of the index (strings
    /// are already masked out), counting depth, and counts the newlines crossed.
    @inlinable
    mutating func skipContainer() -> Bool {
        let start = position
        guard let close = index.matchingBracket(base: base, from: start, end: end) else {
            newlines += index.count(index.newlines, from: start, to: end)
            position = end
            return incomplete()
        }
        newlines += index.count(index.newlines, from: start, to: close)
        position = close + 1
        return true
    }

    /// Iterates an object's members; `body` gets the key span and must consume the value.
    /// Returns false on failure (of the scan or of `body`).
    @inlinable
    mutating func forEachMember(_ body: (inout JSONScanner, ByteSpan) -> Bool) -> Bool {
        guard expect(0x7B, "'{'") else { return false }
        skipWhitespace()
        guard position < end else { return incomplete() }
        if base[position] == 0x7D {
            position += 1
            return true
        }
        while true {
            skipWhitespace()
            guard position < end else { return incomplete() }
            guard base[position] == 0x22 else { return fail("expected a quoted key") }
            var key = ByteSpan.empty
            guard scanString(&key) else { return false }
            guard expect(0x3A, "':' after a key") else { return false }
            skipWhitespace()
            guard body(&self, key) else { return false }
            skipWhitespace()
            guard position < end else { return incomplete() }
            let c = base[position]
            position += 1
            if c == 0x2C { continue }
            if c == 0x7D { return true }
            position -= 1
            return fail("expected ',' or '}' after a value")
        }
    }

    /// Iterates an array's elements; `body` must consume each element.
    @inlinable
    mutating func forEachElement(_ body: (inout JSONScanner) -> Bool) -> Bool {
        guard expect(0x5B, "'['") else { return false }
        skipWhitespace()
        guard position < end else { return incomplete() }
        if base[position] == 0x5D {
            position += 1
            return true
        }
        while true {
            skipWhitespace()
            guard body(&self) else { return false }
            skipWhitespace()
            guard position < end else { return incomplete() }
            let c = base[position]
            position += 1
            if c == 0x2C { continue }
            if c == 0x5D { return true }
            position -= 1
            return fail("expected ',' or ']' after an element")
        }
    }

    /// The byte at `position` after whitespace, or nil at the end.
    @inlinable
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < end ? base[position] : nil
    }

    /// Whether `span` holds exactly `literal`'s bytes (word compares up to 24 bytes, no libc call below
    /// that).
    @inlinable @inline(__always)
    func equals(_ span: ByteSpan, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard span.count == n else { return false }
        let a = UnsafeRawPointer(base + span.start)
        let b = UnsafeRawPointer(literal.utf8Start)
        if n >= 8 {
            guard a.loadUnaligned(as: UInt64.self) == b.loadUnaligned(as: UInt64.self) else { return false }
            if n <= 16 {
                return a.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
                    == b.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            }
            if a.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                != b.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            {
                return false
            }
            return a.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
                == b.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
                && (n <= 24 || memcmp(a, b, n) == 0)
        }
        if n >= 4 {
            return a.loadUnaligned(as: UInt32.self) == b.loadUnaligned(as: UInt32.self)
                && a.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
                    == b.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
        }
        for i in 0..<n where a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) {
            return false
        }
        return true
    }

    /// Whether `span` equals `literal` ignoring ASCII case.
    @inlinable
    func equalsIgnoringCase(_ span: ByteSpan, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard span.count == n else { return false }
        let l = literal.utf8Start
        for i in 0..<n where (base[span.start + i] | 0x20) != (l[i] | 0x20) { return false }
        return true
    }

    @inlinable
    func buffer(_ span: ByteSpan) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + span.start, count: span.count)
    }

    /// Decodes a string's content (escapes resolved; invalid UTF-8 repaired).
    func string(_ span: ByteSpan) -> String {
        let raw = buffer(span)
        if memchr(base + span.start, 0x5C, span.count) == nil {
            return String(decoding: raw, as: UTF8.self)
        }
        return JSONScanner.unescape(raw)
    }

    static func unescape(_ raw: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = 0
        let n = raw.count
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= n else { return nil }
            var v: UInt32 = 0
            for k in at..<(at + 4) {
                let c = raw[k]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                default: return nil
                }
                v = v << 4 | d
            }
            return v
        }
        func appendScalar(_ v: UInt32) {
            let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
        while i < n {
            let c = raw[i]
            if c != 0x5C || i + 1 >= n {
                out.append(c)
                i += 1
                continue
            }
            let e = raw[i + 1]
            i += 2
            switch e {
            case 0x6E: out.append(0x0A)
            case 0x74: out.append(0x09)
            case 0x72: out.append(0x0D)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x75:
                guard var v = hex4(i) else {
                    out.append(contentsOf: [0x5C, 0x75])
                    continue
                }
                i += 4
                if v >= 0xD800 && v < 0xDC00, i + 6 <= n, raw[i] == 0x5C, raw[i + 1] == 0x75, let low = hex4(i + 2),
                    low >= 0xDC00 && low < 0xE000
                {
                    v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                appendScalar(v)
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Bitmaps of a buffer, one bit per byte from `origin`: unescaped quotes, brackets outside strings,
/// newlines. Built by `cjson_index` (AVX2 or SSE2) once per buffer, so strings and skipped containers cost
/// bit operations instead of byte loops.
@usableFromInline
struct JSONIndex {
    @usableFromInline let quotes: UnsafePointer<UInt64>
    @usableFromInline let structure: UnsafePointer<UInt64>
    @usableFromInline let newlines: UnsafePointer<UInt64>
    /// The buffer position of bit 0.
    @usableFromInline let origin: Int
    /// Whether the indexed bytes hold any newline (one-line S3 documents do not: no counting then).
    @usableFromInline let hasNewlines: Bool

    @usableFromInline init(
        quotes: UnsafePointer<UInt64>, structure: UnsafePointer<UInt64>, newlines: UnsafePointer<UInt64>, origin: Int,
        hasNewlines: Bool
    ) {
        self.quotes = quotes
        self.structure = structure
        self.newlines = newlines
        self.origin = origin
        self.hasNewlines = hasNewlines
    }

    /// The first set bit at a position in `[from, limit)`, or nil.
    @inlinable @inline(__always)
    func next(_ bits: UnsafePointer<UInt64>, from: Int, limit: Int) -> Int? {
        let i = cjson_next_bit(bits, origin, from, limit)
        return i < 0 ? nil : i
    }

    /// Whether any bit is set in `[from, to)`.
    @inlinable @inline(__always)
    func any(_ bits: UnsafePointer<UInt64>, from: Int, to: Int) -> Bool {
        if bits == newlines && !hasNewlines { return false }
        return next(bits, from: from, limit: to) != nil
    }

    /// The bracket closing the object or array that opens at `from`, or nil if it does not close
    /// before `end`: walks the bracket bits (strings are masked out), counting depth.
    @inlinable @inline(__always)
    func matchingBracket(base: UnsafePointer<UInt8>, from: Int, end: Int) -> Int? {
        let i = cjson_matching_bracket(structure, origin, base, from, end)
        return i < 0 ? nil : i
    }

    /// Whether the bit of position `at` is set.
    @inlinable @inline(__always)
    func isSet(_ bits: UnsafePointer<UInt64>, at: Int) -> Bool {
        let i = at - origin
        return (bits[i >> 6] >> UInt64(i & 63)) & 1 == 1
    }

    /// The set bits in `[from, to)`.
    @inlinable
    func count(_ bits: UnsafePointer<UInt64>, from: Int, to: Int) -> Int {
        if bits == newlines && !hasNewlines { return 0 }
        return cjson_count_bits(bits, origin, from, to)
    }
}

/// Owns the index words of a framer; grown as buffers grow, reused across calls.
final class JSONIndexStorage {
    private(set) var capacity = 0
    private(set) var quotes = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    private(set) var structure = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
    private(set) var newlines = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)

    deinit {
        quotes.deallocate()
        structure.deallocate()
        newlines.deallocate()
    }

    /// Indexes `base[from..<end]`, taken to start outside a string.
    func build(base: UnsafePointer<UInt8>, from: Int, end: Int) -> JSONIndex {
        let words = (end - from + 63) / 64 + 1
        if words > capacity {
            quotes.deallocate()
            structure.deallocate()
            newlines.deallocate()
            capacity = max(words, capacity * 2)
            quotes = .allocate(capacity: capacity)
            structure = .allocate(capacity: capacity)
            newlines = .allocate(capacity: capacity)
        }
        var hasNewlines = false
        if end > from {
            hasNewlines = cjson_index(base + from, end - from, quotes, structure, newlines) != 0
        }
        // A zero word past the end, so look-ups that round up stay in bounds.
        quotes[words - 1] = 0
        structure[words - 1] = 0
        newlines[words - 1] = 0
        return JSONIndex(
            quotes: quotes, structure: structure, newlines: newlines, origin: from, hasNewlines: hasNewlines)
    }
}
