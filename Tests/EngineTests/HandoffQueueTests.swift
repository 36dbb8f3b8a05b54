import Foundation
@testable import Pipeline
import Testing

/// What one thread puts comes out of the other in the order put, in batches of at most the batch size,
/// whatever the sizes — the sessions the end of an input closes on a thread of their own are assessed in
/// the sessionizer's order.
@Suite struct HandoffQueueTests {
    @Test(arguments: [(0, 1, 1), (1, 1, 1), (5, 64, 8), (1_000, 7, 2), (10_000, 64, 8), (2_048, 1, 1)])
    func elementsComeOutInTheOrderPutInBoundedBatches(count: Int, batchSize: Int, depth: Int) {
        let queue = HandoffQueue<Int>(batchSize: batchSize, depth: depth)
        let thread = Thread {
            for n in 0..<count { queue.put(n) }
            queue.finish()
        }
        thread.start()
        var got: [Int] = []
        var largest = 0
        while let batch = queue.take() {
            largest = max(largest, batch.count)
            got += batch
        }
        #expect(got == Array(0..<count))
        #expect(largest <= batchSize)
        #expect(queue.take() == nil)
    }
}
