/// The fast path of the CloudTrail decoder: one pass over a record as AWS writes it, with the cursor in
/// registers (no closures, no scanner passed by reference), filling the same ``CloudTrailFields`` as the
/// general path, `userIdentity` included.
///
/// It reads only what it is sure of: any byte it does not expect (a malformed value, a string that does
/// not close in the buffer, a record cut by the buffer's end) makes it give up, and the general path
/// reads the record from its start, with its exact diagnostics. So both paths give the same fields for
/// every record the fast path accepts.
extension CloudTrailRecordHandler {
    /// Scans the record at `s.position` (its `{`).
    /// - Returns: the position after the record's `}` and the newlines crossed, or nil to use the
    ///   general path.
    @inline(__always)
    static func scanFast(_ s: JSONScanner, into f: inout CloudTrailFields) -> (end: Int, newlines: Int)? {
        var c = FastCursor(s)
        guard c.byte == 0x7B else { return nil }
        c.p += 1
        c.skipWhitespace()
        guard c.p < c.end, c.byte != 0x7D else { return nil }  // `{}` is the general path's to judge
        while true {
            guard let key = c.key() else { return nil }
            let member = c.member(key)
            switch member {
            case .other:
                guard c.skipValue() else { return nil }
            case .userIdentity:
                if c.byte == 0x7B {
                    // A second userIdentity replaces the first in the general path: leave that to it.
                    guard !f.identityParsed else { return nil }
                    let start = c.p
                    guard c.userIdentity(&f) else { return nil }
                    f.userIdentity = ByteSpan(start: start, end: c.p)
                    f.identityParsed = true
                } else {
                    guard c.skipValue() else { return nil }
                }
            case .requestParameters, .responseElements:
                let start = c.p
                guard c.skipValue() else { return nil }
                if member == .requestParameters {
                    f.requestParameters = c.valueSpan(from: start)
                } else {
                    f.responseElements = c.valueSpan(from: start)
                }
            case .digest:
                f.isDigest = true
                guard c.skipValue() else { return nil }
            case .timestamp where !f.eventTime.isEmpty:
                guard c.skipValue() else { return nil }
            default:
                var span = ByteSpan.empty
                guard c.scalar(&span) else { return nil }
                switch member {
                case .eventID: f.eventID = span
                case .eventTime, .timestamp: f.eventTime = span
                case .eventName: f.eventName = span
                case .awsRegion: f.awsRegion = span
                case .userAgent: f.userAgent = span
                case .errorCode: f.errorCode = span
                case .eventType: f.eventType = span
                case .eventSource: f.eventSource = span
                case .sourceIPAddress: f.sourceIPAddress = span
                case .recipientAccountId: f.recipientAccountId = span
                default: break
                }
            }
            guard let closed = c.next(closing: 0x7D) else { return nil }
            if closed { return (c.p, c.newlines) }
        }
    }
}

/// The top-level members of a CloudTrail record that the decoder reads.
enum CloudTrailMember: UInt8 {
    case other, eventID, eventTime, eventName, awsRegion, userAgent, errorCode, eventType, timestamp, eventSource
    case userIdentity, digest, sourceIPAddress, responseElements, requestParameters, recipientAccountId
}

extension FastCursor {
    /// Which member `key` names (by length, then one or two word compares).
    @inline(__always)
    func member(_ key: ByteSpan) -> CloudTrailMember {
        switch key.count {
        case 7: return equals(key, "eventID") ? .eventID : .other
        case 9:
            if equals(key, "eventTime") { return .eventTime }
            if equals(key, "eventName") { return .eventName }
            if equals(key, "awsRegion") { return .awsRegion }
            if equals(key, "userAgent") { return .userAgent }
            if equals(key, "errorCode") { return .errorCode }
            if equals(key, "eventType") { return .eventType }
            return .other
        case 10: return equals(key, "@timestamp") ? .timestamp : .other
        case 11: return equals(key, "eventSource") ? .eventSource : .other
        case 12: return equals(key, "userIdentity") ? .userIdentity : .other
        case 14: return equals(key, "digestS3Object") ? .digest : .other
        case 15:
            if equals(key, "sourceIPAddress") { return .sourceIPAddress }
            return equals(key, "digestStartTime") ? .digest : .other
        case 16: return equals(key, "responseElements") ? .responseElements : .other
        case 17: return equals(key, "requestParameters") ? .requestParameters : .other
        case 18: return equals(key, "recipientAccountId") ? .recipientAccountId : .other
        default: return .other
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A cursor over the buffer and its index, kept in registers by inlining every step.
struct FastCursor {
    let base: UnsafePointer<UInt8>
    let end: Int
    var p: Int
    var newlines = 0
    let quotes: UnsafePointer<UInt64>
    let structure: UnsafePointer<UInt64>
    let newlineBits: UnsafePointer<UInt64>
    let origin: Int
    let hasNewlines: Bool

    @inline(__always)
    init(_ s: JSONScanner) {
        base = s.base
        end = s.end
        p = s.position
        quotes = s.index.quotes
        structure = s.index.structure
        newlineBits = s.index.newlines
        origin = s.index.origin
        hasNewlines = s.index.hasNewlines
    }

    /// The byte at the cursor (callers check `p < end` first, or rely on the index's slack).
    @inline(__always) var byte: UInt8 { p < end ? base[p] : 0 }

    @inline(__always)
    mutating func skipWhitespace() {
        while p < end {
            let b = base[p]
            guard b <= 0x20 else { return }
            if b == 0x20 || b == 0x09 || b == 0x0D {
                p += 1
            } else if b == 0x0A {
                newlines += 1
                p += 1
            } else {
                return
            }
        }
    }

    /// The first bit of `bits` at or after `from` and before `end`.
    @inline(__always)
    func next(_ bits: UnsafePointer<UInt64>, from: Int) -> Int? {
        guard from < end else { return nil }
        var w = (from - origin) >> 6
        var word = bits[w] & (~UInt64(0) << UInt64((from - origin) & 63))
        let lastWord = (end - 1 - origin) >> 6
        while word == 0 {
            w += 1
            if w > lastWord { return nil }
            word = bits[w]
        }
        let i = origin + (w << 6) + word.trailingZeroBitCount
        return i < end ? i : nil
    }

    @inline(__always)
    func anyNewline(from: Int, to: Int) -> Bool {
        guard hasNewlines, let i = next(newlineBits, from: from) else { return false }
        return i < to
    }

    @inline(__always)
    func countNewlines(from: Int, to: Int) -> Int {
        guard hasNewlines, from < to else { return 0 }
        let a = from - origin
        let b = to - origin
        let firstWord = a >> 6
        let lastWord = (b - 1) >> 6
        var total = 0
        for w in firstWord...lastWord {
            var word = newlineBits[w]
            if w == firstWord { word &= ~UInt64(0) << UInt64(a & 63) }
            if w == lastWord && (b & 63) != 0 { word &= (UInt64(1) << UInt64(b & 63)) &- 1 }
            total += word.nonzeroBitCount
        }
        return total
    }

    /// At a `"`: the string's content; the cursor moves past the closing quote.
    @inline(__always)
    mutating func string() -> ByteSpan? {
        guard let close = next(quotes, from: p + 1), !anyNewline(from: p + 1, to: close) else { return nil }
        let span = ByteSpan(start: p + 1, end: close)
        p = close + 1
        return span
    }

    /// At a member's key: the key, with the cursor on its value.
    @inline(__always)
    mutating func key() -> ByteSpan? {
        guard p < end, base[p] == 0x22, let k = string() else { return nil }
        if p < end && base[p] == 0x3A {
            p += 1
        } else {
            skipWhitespace()
            guard p < end, base[p] == 0x3A else { return nil }
            p += 1
        }
        if p < end && base[p] > 0x20 { return k }
        skipWhitespace()
        return p < end ? k : nil
    }

    /// After a value: true at the container's end (`closing`), false after a `,`, nil otherwise.
    @inline(__always)
    mutating func next(closing: UInt8) -> Bool? {
        if p < end && base[p] <= 0x20 { skipWhitespace() }
        guard p < end else { return nil }
        let b = base[p]
        p += 1
        if b == 0x2C {
            if p < end && base[p] <= 0x20 { skipWhitespace() }
            return false
        }
        return b == closing ? true : nil
    }

    /// Skips an object or array by its bracket bits.
    @inline(__always)
    mutating func skipContainer() -> Bool {
        var depth = 0
        let start = p
        var w = (start - origin) >> 6
        var word = structure[w] & (~UInt64(0) << UInt64((start - origin) & 63))
        let lastWord = (end - 1 - origin) >> 6
        while true {
            while word == 0 {
                w += 1
                if w > lastWord { return false }
                word = structure[w]
            }
            let i = origin + (w << 6) + word.trailingZeroBitCount
            if i >= end { return false }
            word &= word &- 1
            if base[i] | 0x20 == 0x7B {
                depth += 1
            } else {
                depth -= 1
                if depth == 0 {
                    newlines += countNewlines(from: start, to: i)
                    p = i + 1
                    return true
                }
            }
        }
    }

    /// Skips a scalar (number, `true`, `false`, `null`) as the general scanner does.
    @inline(__always)
    mutating func skipScalar() -> Bool {
        let start = p
        while p < end {
            let c = base[p]
            if c == 0x2C || c == 0x7D || c == 0x5D || c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { break }
            p += 1
        }
        guard p < end, p > start else { return false }
        let first = base[start]
        return first == 0x74 || first == 0x66 || first == 0x6E || first == 0x2D || (first >= 0x30 && first <= 0x39)
    }

    @inline(__always)
    mutating func skipValue() -> Bool {
        guard p < end else { return false }
        switch base[p] {
        case 0x22: return string() != nil
        case 0x7B, 0x5B: return skipContainer()
        default: return skipScalar()
        }
    }

    /// The span of the value just skipped from `start` (a string's content, a container or scalar whole).
    @inline(__always)
    func valueSpan(from start: Int) -> ByteSpan {
        base[start] == 0x22 ? ByteSpan(start: start + 1, end: p - 1) : ByteSpan(start: start, end: p)
    }

    /// A scalar field: a string's content, a bare `null` as empty, other scalars and containers whole.
    @inline(__always)
    mutating func scalar(_ target: inout ByteSpan) -> Bool {
        let start = p
        guard skipValue() else { return false }
        if base[start] == 0x22 {
            target = ByteSpan(start: start + 1, end: p - 1)
        } else if p - start == 4 && base[start] == 0x6E && base[start + 1] == 0x75 && base[start + 2] == 0x6C
            && base[start + 3] == 0x6C
        {
            target = .empty
        } else {
            target = ByteSpan(start: start, end: p)
        }
        return true
    }

    @inline(__always)
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
            if a.loadUnaligned(fromByteOffset: 8, as: UInt64.self) != b.loadUnaligned(fromByteOffset: 8, as: UInt64.self) {
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

    /// `userIdentity` at its `{`: type, arn, principalId, accessKeyId, accountId, and the session
    /// issuer's arn; the cursor moves past the object.
    @inline(__always)
    mutating func userIdentity(_ f: inout CloudTrailFields) -> Bool {
        p += 1
        skipWhitespace()
        guard p < end else { return false }
        if base[p] == 0x7D {
            p += 1
            return true
        }
        while true {
            guard let name = key() else { return false }
            switch name.count {
            case 3 where equals(name, "arn"):
                guard scalar(&f.identityArn) else { return false }
            case 4 where equals(name, "type"):
                guard scalar(&f.identityType) else { return false }
            case 9 where equals(name, "accountId"):
                guard scalar(&f.identityAccountId) else { return false }
            case 11 where equals(name, "principalId"):
                guard scalar(&f.identityPrincipalId) else { return false }
            case 11 where equals(name, "accessKeyId"):
                guard scalar(&f.identityAccessKeyId) else { return false }
            case 14 where equals(name, "sessionContext") && base[p] == 0x7B:
                guard sessionContext(&f) else { return false }
            default:
                guard skipValue() else { return false }
            }
            guard let closed = next(closing: 0x7D) else { return false }
            if closed { return true }
        }
    }

    /// `sessionContext` at its `{`: only `sessionIssuer.arn` is read.
    @inline(__always)
    mutating func sessionContext(_ f: inout CloudTrailFields) -> Bool {
        p += 1
        skipWhitespace()
        guard p < end else { return false }
        if base[p] == 0x7D {
            p += 1
            return true
        }
        while true {
            guard let name = key() else { return false }
            if name.count == 13 && equals(name, "sessionIssuer") && base[p] == 0x7B {
                p += 1
                skipWhitespace()
                guard p < end else { return false }
                if base[p] == 0x7D {
                    p += 1
                } else {
                    while true {
                        guard let inner = key() else { return false }
                        if inner.count == 3 && equals(inner, "arn") {
                            guard scalar(&f.identityIssuerArn) else { return false }
                        } else {
                            guard skipValue() else { return false }
                        }
                        guard let closed = next(closing: 0x7D) else { return false }
                        if closed { break }
                    }
                }
            } else {
                guard skipValue() else { return false }
            }
            guard let closed = next(closing: 0x7D) else { return false }
            if closed { return true }
        }
    }
}
