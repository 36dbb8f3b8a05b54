@testable import Sessions
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
}
