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
            let member = CloudTrailMember(key, in: c.base)
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
                f.set(member, span)
            }
            guard let closed = c.next(closing: 0x7D) else { return nil }
            if closed { return (c.p, c.newlines) }
        }
    }
}

/// A cursor over the buffer and its index, kept in registers by inlining every step.
struct FastCursor {
    let base: UnsafePointer<UInt8>
    let end: Int
    var p: Int
    var newlines = 0
    let index: JSONIndex

    @inline(__always)
    init(_ s: JSONScanner) {
        base = s.base
        end = s.end
        p = s.position
        index = s.index
    }

    /// The byte at the cursor (callers check `p < end` first, or rely on the index's slack).
    @inline(__always) var byte: UInt8 { p < end ? base[p] : 0 }

    @inline(__always)
    mutating func skipWhitespace() {
        p = JSONScanner.whitespaceEnd(base, from: p, end: end, newlines: &newlines)
    }

    /// At a `"`: the string's content; the cursor moves past the closing quote.
    @inline(__always)
    mutating func string() -> ByteSpan? {
        guard let close = index.next(index.quotes, from: p + 1, limit: end),
            !index.any(index.newlines, from: p + 1, to: close)
        else { return nil }
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
        guard let close = index.matchingBracket(base: base, from: p, end: end) else { return false }
        newlines += index.count(index.newlines, from: p, to: close)
        p = close + 1
        return true
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
        JSONIndex.bytes(base, span, equal: literal)
    }

    /// At an object's `{`: moves inside; true if it holds members, false if it was `{}` (and is passed),
    /// nil if the buffer ends.
    @inline(__always)
    mutating func enterObject() -> Bool? {
        p += 1
        skipWhitespace()
        guard p < end else { return nil }
        if base[p] == 0x7D {
            p += 1
            return false
        }
        return true
    }

    /// `userIdentity` at its `{`: type, arn, principalId, accessKeyId, accountId, and the session
    /// issuer's arn; the cursor moves past the object.
    @inline(__always)
    mutating func userIdentity(_ f: inout CloudTrailFields) -> Bool {
        guard let members = enterObject() else { return false }
        guard members else { return true }
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
        guard let members = enterObject() else { return false }
        guard members else { return true }
        while true {
            guard let name = key() else { return false }
            if name.count == 13 && equals(name, "sessionIssuer") && base[p] == 0x7B {
                guard let issuerMembers = enterObject() else { return false }
                if issuerMembers {
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
