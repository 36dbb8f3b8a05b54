import TestSupport
import Testing

@testable import Detection

/// The identity graph's index of shared values (``ValueIndex``) answers as a `Dictionary` does, through
/// inserts, in-place changes and removals (backward shifts across the end of the table included) and
/// growth.
@Suite struct ValueIndexTests {
    @Test(arguments: [1, 2, 3] as [UInt64], [8, 200, 5_000] as [UInt64])
    func answersAsADictionary(seed: UInt64, keys: UInt64) {
        var rng = SplitMix(seed: seed)
        var index = ValueIndex<[UInt64]>(capacity: 4, placeholder: [])
        var reference: [UInt64: [UInt64]] = [:]
        // Keys from a small range collide in their home slots; a few large ones land anywhere.
        func key() -> UInt64 { rng.next() % 4 == 0 ? rng.next() | 1 : 1 + rng.next() % keys }
        var large: [UInt64] = []
        for step in 0..<20_000 {
            var k = key()
            if k > keys {
                large.append(k)
            } else if !large.isEmpty && rng.next() % 3 == 0 {
                k = large[Int(rng.next() % UInt64(large.count))]
            }
            switch rng.next() % 4 {
            case 0:
                index.remove(k)
                reference[k] = nil
            case 1:
                let p = index.place(of: k) { [] }
                index.update(at: p) { $0.append(UInt64(step)) }
                reference[k, default: []].append(UInt64(step))
            case 2:
                index.set(k, [k])
                reference[k] = [k]
            default:
                #expect(index[k] == reference[k], "step \(step)")
                #expect(index.read(k, { $0.count }) == reference[k]?.count, "step \(step)")
            }
            #expect(index.count == reference.count)
        }
        for (k, v) in reference { #expect(index[k] == v) }
        #expect(Set(index.allKeys) == Set(reference.keys))
        #expect(index.sortedByKey.map(\.key) == reference.keys.sorted())
        #expect(index.sortedByKey.map(\.value) == reference.keys.sorted().map { reference[$0]! })
    }
}
