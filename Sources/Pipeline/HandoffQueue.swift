import Foundation

/// Elements handed from one thread to another in the order put, a batch at a time: at most `depth`
/// batches wait, and the putting thread waits while they do. ``finish()`` ends the queue; ``take()``
/// gives nil once it is ended and empty.
final class HandoffQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var batches: [[Element]] = []
    private var pending: [Element] = []
    private var finished = false
    private let depth: Int
    private let batchSize: Int

    /// - Parameters:
    ///   - batchSize: elements gathered before they are handed on (one lock and wake-up a batch).
    ///   - depth: batches that may wait.
    init(batchSize: Int, depth: Int) {
        self.batchSize = max(1, batchSize)
        self.depth = max(1, depth)
        pending.reserveCapacity(self.batchSize)
    }

    /// Adds `element`; hands the batch on once it is full (putting thread only).
    func put(_ element: Element) {
        pending.append(element)
        if pending.count >= batchSize { handOn() }
    }

    /// Hands on what is gathered and ends the queue (putting thread only).
    func finish() {
        handOn()
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    private func handOn() {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = []
        pending.reserveCapacity(batchSize)
        condition.lock()
        while batches.count >= depth { condition.wait() }
        batches.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until a batch handed on now would not wait (putting thread only): a putter that makes its next
    /// element only then holds it while there is room for it, not while the queue is full.
    func waitForRoom() {
        condition.lock()
        while batches.count >= depth { condition.wait() }
        condition.unlock()
    }

    /// The next batch in order, nil once the queue is ended and every batch taken (taking thread only).
    func take() -> [Element]? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !finished { condition.wait() }
        guard !batches.isEmpty else { return nil }
        condition.broadcast()
        return batches.removeFirst()
    }
}

/// A value handed to another thread by a caller that knows it is used there alone meanwhile (a closure
/// over state the calling thread leaves alone until the other thread is done).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}
