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

    /// `waitForRoom` returns at once while a batch may be handed on, and once the taker has made room
    /// when the queue is full (the staged merge takes its next input only then).
    @Test func waitForRoomReturnsOnceABatchIsTaken() {
        let queue = HandoffQueue<Int>(batchSize: 1, depth: 1)
        queue.waitForRoom()
        queue.put(1)
        let taken = DispatchSemaphore(value: 0)
        let thread = Thread {
            Thread.sleep(forTimeInterval: 0.05)
            #expect(queue.take() == [1])
            taken.signal()
        }
        thread.start()
        queue.waitForRoom()
        // Room was made by the take: the taker has got its batch.
        #expect(taken.wait(timeout: .now() + 10) == .success)
        queue.put(2)
        queue.finish()
        #expect(queue.take() == [2])
        #expect(queue.take() == nil)
    }
}
