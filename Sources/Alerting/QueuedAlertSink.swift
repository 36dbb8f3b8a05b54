import Foundation
public import UsageModel

/// Delivers alerts to a slow sink (``ExecSink``: a command per alert, up to its timeout and retries)
/// on a thread of its own, in the order given, so that the caller does not wait for it: `ingest`'s
/// merge goes on reading while a hook runs. At most `capacity` alerts wait; a caller that gets that
/// far ahead waits for room, so memory stays bounded whatever the hook's speed.
///
/// Call ``finish()`` before the process reports and exits: it returns when every queued alert has been
/// handed to the sink (delivered, or failed after its last try) and ends the thread;
/// ``finish(deadline:)`` stops at a deadline instead, interrupting the delivery in hand when the sink is
/// an ``InterruptibleAlertSink``. ``handedOver`` counts the alerts the sink has had, in order, so that a
/// caller can tell which of those it queued are done (`tail` removes them from its outbox).
///
/// ```swift
/// let hook = QueuedAlertSink(ExecSink(command: "notify-oncall")!)
/// hook.deliver(alert)   // returns at once
/// hook.finish()         // waits for the command
/// ```
public final class QueuedAlertSink: AlertSink, @unchecked Sendable {
    private var sink: any AlertSink
    /// The same sink when it can be interrupted (read by ``finish(deadline:)`` on the caller's thread).
    private let interruptible: (any InterruptibleAlertSink)?
    private let capacity: Int
    private let condition = NSCondition()
    private var waiting: [Alert] = []
    private var head = 0
    private var finishing = false
    private var running = false
    /// Set when ``finish(deadline:)`` gave up: the thread hands over nothing more.
    private var abandoned = false
    private var handed = 0

    public init(_ sink: any AlertSink, capacity: Int = 1_024) {
        self.sink = sink
        interruptible = sink as? any InterruptibleAlertSink
        self.capacity = max(1, capacity)
    }

    /// Queues `alert`; waits only while `capacity` alerts wait. After ``finish()`` has returned it is
    /// delivered on the caller's thread; after ``finish(deadline:)`` gave up, it is dropped.
    public func deliver(_ alert: Alert) {
        condition.lock()
        while running && waiting.count - head >= capacity && !abandoned { condition.wait() }
        if abandoned {
            // Given up at a deadline: dropped, as the alerts that were waiting were.
            condition.unlock()
            return
        }
        if finishing && !running {
            condition.unlock()
            sink.deliver(alert)
            condition.lock()
            handed += 1
            condition.unlock()
            return
        }
        waiting.append(alert)
        if !running {
            running = true
            let thread = Thread { [self] in run() }
            thread.name = "chiptrail alert hook"
            thread.start()
        }
        condition.broadcast()
        condition.unlock()
    }

    /// How many alerts wait (not yet handed to the sink).
    public var waitingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return waiting.count - head
    }

    /// How many alerts the sink has had since the start (delivered, or failed after its last try), in the
    /// order they were queued; one interrupted by ``finish(deadline:)`` is not counted.
    public var handedOver: Int {
        condition.lock()
        defer { condition.unlock() }
        return handed
    }

    /// Waits until every queued alert has been handed to the sink, and ends the thread.
    public func finish() {
        condition.lock()
        finishing = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    /// Waits until every queued alert has been handed to the sink or, at the latest, until `deadline`
    /// (``MonotonicClock`` seconds), and ends the thread. At the deadline the alerts still waiting are
    /// dropped, the delivery in hand is interrupted (an ``InterruptibleAlertSink``; another sink's is
    /// waited for) and not counted in ``handedOver``, and nothing is delivered after.
    /// - Returns: whether every queued alert was handed over.
    @discardableResult
    public func finish(deadline: Double) -> Bool {
        condition.lock()
        finishing = true
        condition.broadcast()
        while running {
            let left = deadline - MonotonicClock.seconds()
            if left <= 0 { break }
            _ = condition.wait(until: Date(timeIntervalSinceNow: left))
        }
        guard running else {
            condition.unlock()
            return true
        }
        abandoned = true
        waiting.removeAll()
        head = 0
        condition.broadcast()
        condition.unlock()
        interruptible?.interrupt()
        condition.lock()
        while running { condition.wait() }
        condition.unlock()
        return false
    }

    private func run() {
        condition.lock()
        while true {
            if abandoned { break }
            if head == waiting.count {
                waiting.removeAll(keepingCapacity: true)
                head = 0
                if finishing { break }
                condition.wait()
                continue
            }
            let alert = waiting[head]
            head += 1
            if head >= capacity {
                // Delivered alerts are not kept while a steady stream never lets the queue empty.
                waiting.removeFirst(head)
                head = 0
            }
            condition.broadcast()
            condition.unlock()
            sink.deliver(alert)
            condition.lock()
            if !abandoned { handed += 1 }
        }
        running = false
        condition.broadcast()
        condition.unlock()
    }
}
