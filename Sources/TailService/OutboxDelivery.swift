import Alerting
import Store
import UsageModel

/// tail's outbox, delivered: each alert committed goes to stdout and syslog on the loop's thread (they
/// are fast) and to the `--exec` command through a bounded queue on a thread of its own (a slow command
/// does not stall reading), in outbox order. An alert's row is removed once every sink has had it — the
/// command ran, or failed after its last try — so a restart, even after kill -9, delivers what was not.
///
/// The store is used on the loop's thread only: the queue counts what the command has had
/// (``QueuedAlertSink/handedOver``), and the loop removes those rows at its next turn
/// (``removeDelivered()``: after each commit and at each wake). Not `Sendable`: the loop's own.
final class OutboxDelivery {
    /// The longest the command is waited for at a stop, whatever its timeout and tries.
    static let drainCap = 60.0

    private let store: Store
    private var sink: AlertFanOut
    private let hook: QueuedAlertSink?
    /// How long the command is waited for at a stop: one alert's tries and back-off, at most ``drainCap``.
    let drainLimit: Double
    private let clearStatus: () -> Void
    /// The last row handed to the sinks by this process: later deliveries read only the rows after it.
    private var handedOut: Int64 = 0
    /// The rows queued for the command, in order, not yet known to be done.
    private var queued: [Int64] = []
    private var queuedHead = 0
    /// How many of the queue's ``QueuedAlertSink/handedOver`` were matched to rows already.
    private var matched = 0

    /// - Parameters:
    ///   - sink: stdout and syslog, delivered to at once.
    ///   - hook: the `--exec` command, run on a queue of its own.
    ///   - clearStatus: clears the terminal's status line before an alert is written.
    init(store: Store, sink: AlertFanOut, hook: ExecSink?, clearStatus: @escaping () -> Void) {
        self.store = store
        self.sink = sink
        self.hook = hook.map { QueuedAlertSink($0) }
        drainLimit = min(Self.drainCap, hook?.longestDelivery ?? 0)
        self.clearStatus = clearStatus
    }

    /// Hands the rows committed since the last call to every sink, in order, then removes the rows every
    /// sink has had. With a command, stops handing out when `stopRequested` says so (the rest stay for the
    /// next start), and waits only while the command's queue is full.
    /// - Returns: how many alerts were handed out.
    /// - Throws: ``StoreError`` when the outbox cannot be read or its rows removed.
    func deliverNew(stopRequested: () -> Bool = { false }) throws(StoreError) -> Int {
        let pending = try store.outbox(after: handedOut)
        var count = 0
        for (seq, alert) in pending {
            if hook != nil && count > 0 && stopRequested() { break }
            clearStatus()
            sink.deliver(alert)
            handedOut = seq
            count += 1
            if let hook {
                queued.append(seq)
                hook.deliver(alert)
            } else {
                try store.delivered(upTo: seq)
            }
        }
        try removeDelivered()
        return count
    }

    /// Removes the rows the command has had (and stdout and syslog before it). Call it between batches:
    /// the store's connection is the open batch's while one is read.
    /// - Throws: ``StoreError`` when the rows cannot be removed.
    func removeDelivered() throws(StoreError) {
        guard let hook else { return }
        let done = hook.handedOver
        guard done > matched else { return }
        queuedHead += done - matched
        matched = done
        try store.delivered(upTo: queued[queuedHead - 1])
        if queuedHead > 1_024 {
            queued.removeFirst(queuedHead)
            queuedHead = 0
        }
    }

    /// How many alerts wait for the command (not yet handed to it).
    var waitingForHook: Int { hook?.waitingCount ?? 0 }

    /// Whether a command is run per alert.
    var hasHook: Bool { hook != nil }

    /// Hands the command what waits for it and removes the rows it had. With a `deadline`
    /// (``MonotonicClock`` seconds) the command is waited for until then: the one in hand is killed, and
    /// what it has not had stays in the outbox for the next start.
    /// - Returns: how many alerts the outbox still holds.
    /// - Throws: ``StoreError`` when the rows cannot be removed or counted.
    func finish(deadline: Double?) throws(StoreError) -> Int {
        guard hook != nil else { return 0 }
        if let hook {
            if let deadline {
                hook.finish(deadline: deadline)
            } else {
                hook.finish()
            }
        }
        try removeDelivered()
        return try store.outboxCount()
    }
}

@available(*, unavailable)
extension OutboxDelivery: Sendable {}
