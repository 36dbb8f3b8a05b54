import Detection
import Foundation
@testable import Pipeline
import TestSupport
import Testing
import UsageModel

/// The accounts' activity in a table whose slots hold a key and a place, the values in an array of their
/// own (issue 17: a ``KeyTable`` of 176-byte values kept at most half full cost 12 MB for the 3.5 MB of
/// 20,000 accounts' activity). It answers as a ``KeyTable`` does, in the same order.
@Suite struct DenseKeyTableTests {
    /// A value of the activity's size.
    struct Wide: Equatable {
        var first: UInt64
        var rest: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var more: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var calls = 0
        static func == (a: Wide, b: Wide) -> Bool { a.first == b.first && a.calls == b.calls }
    }

    /// Seeded keys (some repeated, a zero among them) updated, modified and looked up in both tables.
    @Test(arguments: [10, 3_000, 40_000])
    func answersAsAKeyTableInTheSameOrder(count: Int) {
        var dense = DenseKeyTable<Wide>(capacity: 16)
        var plain = KeyTable<Wide>(capacity: 16)
        var random = SplitMix(seed: UInt64(count))
        var keys: [UInt64] = []
        for n in 0..<count {
            let key = n == 0 ? 0 : n % 5 == 4 ? keys[Int(random.next() % UInt64(keys.count))] : random.next()
            keys.append(key)
            dense.update(key, default: { Wide(first: key) }) { $0.calls += 1 }
            plain.update(key, default: { Wide(first: key) }) { $0.calls += 1 }
            if n % 7 == 0 {
                let probe = random.next() % 2 == 0 ? key : random.next()
                let a = dense.modify(probe) {
                    $0.calls += 10; return $0.calls
                }
                let b = plain.modify(probe) {
                    $0.calls += 10; return $0.calls
                }
                #expect(a == b)
            }
        }
        #expect(dense.count == plain.count)
        #expect(dense.slots == plain.slots)
        for key in keys {
            #expect(dense[key] == plain[key])
            #expect(dense.contains(key))
        }
        #expect(dense[random.next()] == nil)
        #expect(dense.elements.map(\.key) == plain.elements.map(\.key))
        #expect(dense.elements.map(\.value) == plain.elements.map(\.value))
        var visited: [UInt64] = []
        dense.forEach { key, value in
            visited.append(key)
            #expect(value == plain[key])
        }
        #expect(visited == plain.elements.map(\.key))
        // A hint changes nothing.
        for key in keys.prefix(100) {
            dense.prefetch(key)
            dense.prefetchValue(key)
        }
        #expect(dense.elements.map(\.value) == plain.elements.map(\.value))
    }

    /// 20,000 values of the activity's size: 16 bytes a slot and the values' array (at most twice the
    /// values: it doubles as it grows), not a value's size a slot (what a ``KeyTable`` holds: its slots ×
    /// (8 + the value's stride)): 6.8 MB against 12.6.
    @Test func holdsTwentyThousandWideValuesInLittleMoreThanHalfAKeyTable() {
        var dense = DenseKeyTable<Wide>(capacity: 4096)
        var random = SplitMix(seed: 17)
        for _ in 0..<20_000 {
            let key = random.next()
            dense.update(key, default: { Wide(first: key) }) { $0.calls += 1 }
        }
        let keyTableBytes = dense.slots * (8 + MemoryLayout<Wide?>.stride)
        #expect(dense.slots == 65_536)
        #expect(MemoryLayout<Wide>.stride == 176)
        #expect(dense.byteCount * 10 < keyTableBytes * 6)
        #expect(dense.byteCount <= dense.slots * 16 + 2 * 20_000 * MemoryLayout<Wide>.stride)
    }

    /// The pipeline's accounts' activity: a slot of 16 bytes and a value each, not a slot of the value's
    /// size (3,000 accounts took 8,192 slots of the activity's size and 8 bytes, ~520 bytes an account).
    @Test func thePipelinesActivityCostsAValueAndAFewSlotsAnAccount() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let accounts = 3_000
        let inputs = LiveCheckpointTests.world(dir, accounts: accounts, hours: 2)
        let pipeline = LiveCheckpointTests.pipeline(dir) { _, _ in }
        _ = pipeline.run(inputs: inputs)
        #expect(pipeline.activity.count == accounts)
        let stride = MemoryLayout<AccountActivity>.stride
        #expect(pipeline.activity.byteCount <= pipeline.activity.slots * 16 + 2 * accounts * stride)
        #expect(pipeline.activity.byteCount < accounts * (2 * stride + 64))
        #expect(pipeline.activity.byteCount < pipeline.activity.slots * (8 + MemoryLayout<AccountActivity?>.stride))
    }
}
