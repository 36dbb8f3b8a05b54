@testable import Sessions
import TestSupport
import Testing

/// The sessionizer's due queue against the obvious reading: after any mix of schedules, popping at a
/// watermark gives each key whose earliest due time is at or before it, once.
@Suite struct DueQueueTests {
    @Test(arguments: [1, 2, 3, 4, 5])
    func popsExactlyTheKeysDueByTheirEarliestTime(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        var queue = DueQueue<Int>()
        var earliest: [Int: Int64] = [:]
        var watermark: Int64 = 0
        for _ in 0..<200 {
            for _ in 0..<Int(rng.next() % 8) {
                let key = Int(rng.next() % 50)
                let due = watermark + Int64(rng.next() % 100) - 10
                queue.schedule(key, at: due)
                earliest[key] = min(earliest[key] ?? .max, due)
            }
            watermark += Int64(rng.next() % 20)
            var popped: [Int] = []
            while let key = queue.popDue(at: watermark) { popped.append(key) }
            let expected = earliest.filter { $0.value <= watermark }.map(\.key)
            #expect(popped.sorted() == expected.sorted())
            for key in expected { earliest[key] = nil }
        }
    }

    /// Issue 19: keys due at the same time come out in the order they were scheduled (a sequence number
    /// breaks the tie), not in whatever order a heap's layout gives; a key scheduled earlier than its
    /// entry takes its place in that order from then on.
    @Test(arguments: [1, 2, 3])
    func keysDueAtTheSameTimeComeOutInTheOrderTheyWereScheduled(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        var queue = DueQueue<Int>()
        var scheduled: [(due: Int64, order: Int, key: Int)] = []
        var current: [Int: Int] = [:]
        for order in 0..<300 {
            let key = Int(rng.next() % 120)
            let due = Int64(rng.next() % 4) * 10
            if let i = current[key], scheduled[i].due <= due { continue }
            if let i = current[key] { scheduled[i].due = .max }
            current[key] = scheduled.count
            scheduled.append((due, order, key))
            queue.schedule(key, at: due)
        }
        var popped: [Int] = []
        while let key = queue.popDue(at: 30) { popped.append(key) }
        let expected = scheduled.filter { $0.due != .max }.sorted { ($0.due, $0.order) < ($1.due, $1.order) }.map(\.key)
        #expect(popped == expected)
    }
}
