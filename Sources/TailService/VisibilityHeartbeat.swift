import Foundation
import UsageModel
import ObjectStore
import Synchronization

/// Keeps the messages in hand hidden from other receivers while their objects are read and committed:
/// a thread of its own extends each held receipt's visibility by `timeout` seconds once half of it has
/// passed (ChangeMessageVisibilityBatch), whatever the loop is doing (a large object being read, a
/// commit). Released receipts are left alone: a deleted message is gone, an abandoned one comes back
/// when its visibility runs out.
final class VisibilityHeartbeat: Sendable {
    private struct State {
        /// Each held receipt and when its visibility was last set (monotonic seconds).
        var held: [String: Double] = [:]
        var stopped = false
        /// Failures since the loop last looked (it reports them).
        var problems: [String] = []
    }

    private let queue: SQSClient
    private let timeout: Int
    private let state = Mutex(State())
    private let done = DispatchSemaphore(value: 0)

    /// - Parameter timeout: the visibility each receive asked for, and each extension gives.
    init(queue: SQSClient, timeout: Int) {
        self.queue = queue
        self.timeout = timeout
        let thread = Thread { [self] in self.beat() }
        thread.name = "chiptrail-sqs-heartbeat"
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Holds receipts received now (their visibility was set by the receive).
    func hold(_ receipts: [String]) {
        let now = MonotonicClock.seconds()
        state.withLock { for r in receipts { $0.held[r] = now } }
    }

    /// Stops extending these receipts.
    func release(_ receipts: [String]) {
        state.withLock { for r in receipts { $0.held[r] = nil } }
    }

    /// Failures of extensions since the last call.
    func takeProblems() -> [String] {
        state.withLock { s in
            defer { s.problems.removeAll() }
            return s.problems
        }
    }

    /// Ends the thread (the receipts held are left to run out).
    func stop() {
        state.withLock { $0.stopped = true }
        done.wait()
    }

    private func beat() {
        // Extend once half the timeout has passed: the other half leaves room for the call and its retries.
        let margin = max(1, Double(timeout) / 2)
        while true {
            let due: [String]? = state.withLock { s in
                if s.stopped { return nil }
                let now = MonotonicClock.seconds()
                return s.held.filter { now - $0.value >= margin }.map(\.key)
            }
            guard let due else { break }
            if !due.isEmpty {
                let now = MonotonicClock.seconds()
                do {
                    let refused = try queue.changeVisibility(due, seconds: timeout)
                    state.withLock { s in
                        for r in due where s.held[r] != nil { s.held[r] = now }
                        for f in refused {
                            s.problems.append(
                                "cannot extend a message's visibility: \(f.awsCode): \(f.message); it may be read again by another receiver"
                            )
                            s.held[f.receiptHandle] = nil
                        }
                    }
                } catch {
                    state.withLock { $0.problems.append(error.detail) }
                }
            }
            Thread.sleep(forTimeInterval: min(1, margin / 2))
        }
        done.signal()
    }
}
