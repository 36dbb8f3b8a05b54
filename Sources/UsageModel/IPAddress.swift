/// An IPv4 or IPv6 address as a 128-bit number (IPv4 mapped into `::ffff:0:0/96`), comparable for range look-ups.
public struct IPAddress: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var value: UInt128

    public init(value: UInt128) { self.value = value }

    public init(v4: UInt32) { self.value = (UInt128(0xFFFF) << 32) | UInt128(v4) }

    public var isV4: Bool { value >> 32 == 0xFFFF }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text; nil for anything else (host names, `AWS Internal`,
    /// `100.200.300.400`, leading zeros such as `06.237.252.245`).
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> IPAddress? {
        if bytes.isEmpty || bytes.count > 45 { return nil }
        // Most addresses in logs are IPv4: try that first (it stops at the first byte that is neither a
        // digit nor a dot, so a colon sends IPv6 text on quickly).
        if let v4 = parseV4(bytes) { return IPAddress(v4: v4) }
        for b in bytes where b == 0x3A { return parseV6(bytes) }
        return nil
    }

    /// Parses a `String` (configuration files; not the hot path).
    public static func parse(_ text: String) -> IPAddress? {
        var copy = text
        return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    @inlinable
    static func parseV4(_ bytes: UnsafeRawBufferPointer) -> UInt32? {
        var result: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        var first: UInt8 = 0
        for b in bytes {
            let digit = b &- 0x30
            if digit < 10 {
                if digits == 0 {
                    first = b
                } else if first == 0x30 {
                    return nil  // a leading zero
                }
                octet = octet &* 10 &+ UInt32(digit)
                digits &+= 1
                if octet > 255 { return nil }
            } else if b == 0x2E {
                if digits == 0 || dots == 3 { return nil }
                result = result << 8 | octet
                octet = 0
                digits = 0
                dots &+= 1
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return result << 8 | octet
    }

    @inlinable
    static func parseV6(_ bytes: UnsafeRawBufferPointer) -> IPAddress? {
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        var gapIndex: Int? = nil
        var i = 0
        let n = bytes.count
        if n >= 2 && bytes[0] == 0x3A && bytes[1] == 0x3A {
            gapIndex = 0
            i = 2
        } else if n >= 1 && bytes[0] == 0x3A {
            return nil
        }
        while i < n {
            // An embedded IPv4 tail.
            var j = i
            var sawDot = false
            while j < n && bytes[j] != 0x3A {
                if bytes[j] == 0x2E { sawDot = true }
                j += 1
            }
            if sawDot {
                guard j == n, let v4 = parseV4(UnsafeRawBufferPointer(rebasing: bytes[i..<n])) else { return nil }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(v4 & 0xFFFF))
                i = n
                break
            }
            guard j > i, j - i <= 4 else { return nil }
            var group: UInt16 = 0
            for k in i..<j {
                let c = bytes[k]
                let v: UInt16
                switch c {
                case 0x30...0x39: v = UInt16(c - 0x30)
                case 0x61...0x66: v = UInt16(c - 0x61 + 10)
                case 0x41...0x46: v = UInt16(c - 0x41 + 10)
                default: return nil
                }
                group = group << 4 | v
            }
            groups.append(group)
            i = j
            if i < n {
                // at a colon
                if i + 1 < n && bytes[i + 1] == 0x3A {
                    guard gapIndex == nil else { return nil }
                    gapIndex = groups.count
                    i += 2
                } else {
                    i += 1
                    guard i < n else { return nil }
                }
            }
            if groups.count > 8 { return nil }
        }
        var full = [UInt16](repeating: 0, count: 8)
        if let gap = gapIndex {
            guard groups.count < 8 else { return nil }
            for k in 0..<gap { full[k] = groups[k] }
            let tail = groups.count - gap
            for k in 0..<tail { full[8 - tail + k] = groups[gap + k] }
        } else {
            guard groups.count == 8 else { return nil }
            full = groups
        }
        var value: UInt128 = 0
        for g in full { value = value << 16 | UInt128(g) }
        return IPAddress(value: value)
    }

    public var description: String {
        if isV4 {
            let v = UInt32(truncatingIfNeeded: value)
            return "\(v >> 24).\(v >> 16 & 0xFF).\(v >> 8 & 0xFF).\(v & 0xFF)"
        }
        var groups: [String] = []
        for k in stride(from: 7, through: 0, by: -1) {
            groups.append(String(UInt16(truncatingIfNeeded: value >> (UInt128(k) * 16)), radix: 16))
        }
        return groups.joined(separator: ":")
    }
}
