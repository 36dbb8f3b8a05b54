import Foundation
public import UsageModel

/// Delivers alerts to a slow sink (``ExecSink``: a command per alert, up to its timeout and retries)
/// on a thread of its own, in the order given, so that the caller does not wait for it: `ingest`'s
/// merge goes on reading while a hook runs. At most `capacity` alerts wait; a caller that gets that
/// far ahead waits for room, so memory stays bounded whatever the hook's speed.
///
/// Call ``finish()`` before the process reports and exits: it returns when every queued alert has been
/// handed to the sink (delivered, or failed after its last try) and ends the thread.
///
/// ```swift
/// let hook = QueuedAlertSink(ExecSink(command: "notify-oncall")!)
/// hook.deliver(alert)   // returns at once
/// hook.finish()         // waits for the command
/// ```
public final class QueuedAlertSink: AlertSink, @unchecked Sendable {
    private var sink: any AlertSink
    private let capacity: Int
    private let condition = NSCondition()
    private var waiting: [Alert] = []
    private var head = 0
    private var finishing = false
    private var running = false

    public init(_ sink: any AlertSink, capacity: Int = 1_024) {
        self.sink = sink
        self.capacity = max(1, capacity)
    }

    /// Queues `alert`; waits only while `capacity` alerts wait. After ``finish()`` has returned it is
    /// delivered on the caller's thread.
    public func deliver(_ alert: Alert) {
        condition.lock()
        while running && waiting.count - head >= capacity { condition.wait() }
        if finishing && !running {
            condition.unlock()
            sink.deliver(alert)
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

    /// Waits until every queued alert has been handed to the sink, and ends the thread.
    public func finish() {
        condition.lock()
        finishing = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    private func run() {
        condition.lock()
        while true {
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
        }
        running = false
        condition.broadcast()
        condition.unlock()
    }
}
