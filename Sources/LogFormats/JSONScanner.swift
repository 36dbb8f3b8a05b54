#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
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

    @inlinable init(base: UnsafePointer<UInt8>, start: Int, end: Int) {
        self.base = base
        self.position = start
        self.end = end
    }

    @inlinable subscript(_ i: Int) -> UInt8 { base[i] }

    @inlinable var atEnd: Bool { position >= end }

    /// Skips spaces, tabs, CR and LF (counting LF).
    @inlinable @inline(__always)
    mutating func skipWhitespace() {
        var p = position
        while p < end {
            let b = base[p]
            if b == 0x20 || b == 0x09 || b == 0x0D {
                p += 1
            } else if b == 0x0A {
                newlines += 1
                p += 1
            } else {
                break
            }
        }
        position = p
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

    /// At an opening quote: returns the span of the string's content (escapes left as they are).
    /// Scans eight bytes at a time for `"` and `\` (SWAR), so long and short strings cost little.
    @inlinable @inline(__always)
    mutating func scanString(_ span: inout ByteSpan, escaped: inout Bool) -> Bool {
        let contentStart = position + 1
        var p = contentStart
        escaped = false
        while true {
            while p + 8 <= end {
                let w = UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self)
                let m = SWAR.zeroBytes(w ^ SWAR.quotes) | SWAR.zeroBytes(w ^ SWAR.backslashes)
                if m == 0 {
                    p += 8
                    continue
                }
                let i = p + m.trailingZeroBitCount >> 3
                if base[i] == 0x22 {
                    span = ByteSpan(start: contentStart, end: i)
                    position = i + 1
                    return true
                }
                escaped = true
                p = i + 2
            }
            guard p < end else { return incomplete() }
            let b = base[p]
            if b == 0x22 {
                span = ByteSpan(start: contentStart, end: p)
                position = p + 1
                return true
            }
            if b == 0x5C {
                escaped = true
                p += 2
            } else {
                p += 1
            }
        }
    }

    /// Skips a string whose opening quote is at `position`.
    @inlinable @inline(__always)
    mutating func skipString() -> Bool {
        var span = ByteSpan.empty
        var escaped = false
        return scanString(&span, escaped: &escaped)
    }

    /// Skips any value; for scalars, `span` receives the value's bytes.
    @inlinable
    mutating func skipValue(_ span: inout ByteSpan) -> Bool {
        skipWhitespace()
        guard position < end else { return incomplete() }
        let b = base[position]
        switch b {
        case 0x22:
            var escaped = false
            return scanString(&span, escaped: &escaped)
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
            guard p > start else { return fail("expected a value") }
            let first = base[start]
            let valid = first == 0x74 || first == 0x66 || first == 0x6E || first == 0x2D || (first >= 0x30 && first <= 0x39)
            guard valid else { return fail("expected a value") }
            span = ByteSpan(start: start, end: p)
            position = p
            return true
        }
    }

    /// Skips an object or array starting at `position`, balancing brackets and skipping strings.
    /// Finds the next `"`, bracket or newline eight bytes at a time (SWAR).
    @inlinable
    mutating func skipContainer() -> Bool {
        var depth = 0
        var p = position
        while p < end {
            var b: UInt8
            if p + 8 <= end {
                let w = UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self)
                let folded = w | SWAR.spaces  // '[' -> '{', ']' -> '}'
                let m =
                    SWAR.zeroBytes(w ^ SWAR.quotes) | SWAR.zeroBytes(folded ^ SWAR.openBraces)
                    | SWAR.zeroBytes(folded ^ SWAR.closeBraces) | SWAR.zeroBytes(w ^ SWAR.newlines)
                if m == 0 {
                    p += 8
                    continue
                }
                p += m.trailingZeroBitCount >> 3
                b = base[p]
            } else {
                b = base[p]
            }
            switch b {
            case 0x22:
                position = p
                guard skipString() else { return false }
                p = position
                continue
            case 0x7B, 0x5B:
                depth += 1
            case 0x7D, 0x5D:
                depth -= 1
                if depth == 0 {
                    position = p + 1
                    return true
                }
            case 0x0A:
                newlines += 1
            default:
                break
            }
            p += 1
        }
        position = p
        return incomplete()
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
            var escaped = false
            guard scanString(&key, escaped: &escaped) else { return false }
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

    /// Whether `span` holds exactly `literal`'s bytes.
    @inlinable @inline(__always)
    func equals(_ span: ByteSpan, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard span.count == n else { return false }
        return memcmp(base + span.start, literal.utf8Start, n) == 0
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

/// Byte-parallel tests on eight bytes at once.
@usableFromInline
enum SWAR {
    @usableFromInline static let ones: UInt64 = 0x0101_0101_0101_0101
    @usableFromInline static let highs: UInt64 = 0x8080_8080_8080_8080
    @usableFromInline static let quotes: UInt64 = 0x2222_2222_2222_2222
    @usableFromInline static let backslashes: UInt64 = 0x5C5C_5C5C_5C5C_5C5C
    @usableFromInline static let spaces: UInt64 = 0x2020_2020_2020_2020
    @usableFromInline static let openBraces: UInt64 = 0x7B7B_7B7B_7B7B_7B7B
    @usableFromInline static let closeBraces: UInt64 = 0x7D7D_7D7D_7D7D_7D7D
    @usableFromInline static let newlines: UInt64 = 0x0A0A_0A0A_0A0A_0A0A

    /// The high bit set in (at least) the lowest byte of `v` that is zero; exact for the lowest one.
    @inlinable @inline(__always)
    static func zeroBytes(_ v: UInt64) -> UInt64 { (v &- ones) & ~v & highs }
}
