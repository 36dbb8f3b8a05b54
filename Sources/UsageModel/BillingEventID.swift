/// The event id of a billing line that carries none of its own: `bill-` and the sixteen lowercase hex
/// digits of a 64-bit key. Billing lines are held by the key (``UsageLines`` in the readers, billed runs
/// in the sessionizer) and the id spelled only when an event is made.
public enum BillingEventID {
    /// The id's length in UTF-8 bytes.
    public static let length = 21

    /// `bill-` and the sixteen hex digits of `key`, in one allocation.
    public static func spell(_ key: UInt64) -> String {
        String(unsafeUninitializedCapacity: length) { b in
            spell(key, into: b)
            return length
        }
    }

    /// Writes the id of `key` into the first ``length`` bytes of `b`.
    @inlinable
    public static func spell(_ key: UInt64, into b: UnsafeMutableBufferPointer<UInt8>) {
        let prefix: StaticString = "bill-"
        for i in 0..<5 { b[i] = prefix.utf8Start[i] }
        let digits: StaticString = "0123456789abcdef"
        for i in 0..<16 { b[5 + i] = digits.utf8Start[Int((key >> (60 - 4 * UInt64(i))) & 0xF)] }
    }

    /// The key `id` spells, when it is exactly the id ``spell(_:)`` makes of one (so that spelling the key
    /// gives `id` back byte for byte); nil for any other text.
    public static func key(of id: String) -> UInt64? {
        var id = id
        return id.withUTF8 { b -> UInt64? in
            guard b.count == length, b[0] == 0x62, b[1] == 0x69, b[2] == 0x6C, b[3] == 0x6C, b[4] == 0x2D else {
                return nil
            }
            var key: UInt64 = 0
            for i in 5..<length {
                let c = b[i]
                let digit: UInt8
                switch c {
                case 0x30...0x39: digit = c - 0x30
                case 0x61...0x66: digit = c - 0x61 + 10
                default: return nil
                }
                key = key << 4 | UInt64(digit)
            }
            return key
        }
    }
}
