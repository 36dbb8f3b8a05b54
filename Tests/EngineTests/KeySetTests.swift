import Testing
import TestSupport
import UsageModel

/// The de-duplication window's key set: every key it was given is remembered, and its table is the
/// smallest power of two that keeps it at most three quarters full (issue 17: a dense trail's day of
/// event ids is most of the window's memory).
@Suite struct KeySetTests {
    /// The smallest power-of-two table with `count` keys at most three quarters of its slots.
    static func smallestTable(for count: Int) -> Int {
        var slots = 16
        while count * 4 > slots * 3 { slots <<= 1 }
        return slots
    }

    /// Counts between half and three quarters of a power of two: a table filled to half would need twice
    /// the slots for each (12,288 is exactly three quarters of 16,384).
    @Test(arguments: [3_000, 12_288, 90_000, 700_000])
    func keepsEveryKeyInTheSmallestTableAtThreeQuarters(count: Int) {
        var set = KeySet(capacity: 16)
        var random = SplitMix(seed: UInt64(count))
        var keys: [UInt64] = []
        keys.reserveCapacity(count)
        for _ in 0..<count {
            let key = random.next()
            keys.append(key)
            let inserted = set.insert(key)
            #expect(inserted)
        }
        #expect(set.count == count)
        #expect(set.slots == Self.smallestTable(for: count))
        #expect(set.slots < count * 2)
        var again = 0
        for key in keys where !set.insert(key) { again += 1 }
        #expect(again == count)
        #expect(set.count == count)
        // Sized up front, it never grows.
        var sized = KeySet(capacity: count)
        #expect(sized.slots == Self.smallestTable(for: count))
        for key in keys { _ = sized.insert(key) }
        #expect(sized.slots == Self.smallestTable(for: count))
    }

    @Test func emptiedSetsKeepTheirTableAndForgetTheirKeys() {
        var set = KeySet(capacity: 1_000)
        var random = SplitMix(seed: 7)
        let keys = (0..<1_000).map { _ in random.next() }
        for key in keys { _ = set.insert(key) }
        let slots = set.slots
        set.removeAll()
        #expect(set.count == 0)
        #expect(set.slots == slots)
        var fresh = 0
        for key in keys where set.insert(key) { fresh += 1 }
        #expect(fresh == keys.count)
        // Zero is a key like any other.
        let first = set.insert(0)
        let second = set.insert(0)
        #expect(first && !second)
    }
}
