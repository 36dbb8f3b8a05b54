import Alerting
public import Detection
import Foundation
import GRDB
public import UsageModel

/// One batch's transaction, written by a thread of its own while the batch is still being read: the
/// ledger rows, events and calls of each input go in as the input is read (``add(files:events:calls:)``),
/// and ``commit(assessments:checkpoint:offsets:)`` adds the sessions, alerts, offsets and live state and
/// commits — either all of the batch is in the store or none of it, as with ``Store/write(files:events:calls:assessments:checkpoint:offsets:)``.
///
/// Reading and writing overlap: the rows are written on the second core while the next inputs are read,
/// and memory holds at most `capacity` inputs' rows waiting. Until ``commit(assessments:checkpoint:offsets:)``
/// or ``abandon()`` returns, the store must not be used otherwise (its one connection is in this
/// transaction).
///
/// ```swift
/// let transaction = store.beginBatch()
/// transaction.add(files: [record], events: outcome.events, calls: calls)   // per input, as read
/// let alerts = try transaction.commit(assessments: assessments, checkpoint: changes, offsets: [])
/// ```
public final class BatchTransaction: @unchecked Sendable {
    private enum Job {
        case rows(files: [Store.FileRecord], events: [UsageEvent], calls: [Store.CallRecord])
        case commit(assessments: [(Detector.Assessment, Alert?)], checkpoint: LiveStateChanges?, offsets: [Store.FollowOffset])
        case abandon
    }

    private let store: Store
    private let capacity: Int
    private let condition = NSCondition()
    private var jobs: [Job] = []
    /// Set by the writer when the transaction has ended: the alerts committed, or the error.
    private var outcome: Result<[Alert], StoreError>?
    private var ended = false
    private var thread: Thread?

    init(store: Store, capacity: Int) {
        self.store = store
        self.capacity = max(1, capacity)
        let thread = Thread { [self] in write() }
        thread.name = "chiptrail store writer"
        self.thread = thread
        thread.start()
    }

    /// Queues one input's ledger row(s), events and calls; waits while `capacity` inputs' rows wait.
    /// An error writing them is thrown by ``commit(assessments:checkpoint:offsets:)``.
    public func add(files: [Store.FileRecord], events: [UsageEvent], calls: [Store.CallRecord]) {
        enqueue(.rows(files: files, events: events, calls: calls))
    }

    /// Writes the sessions and alerts (each alert not already in the store, stamped with the commit's
    /// time), the followed files' offsets and, with `checkpoint`, the live state and the outbox; commits.
    /// - Returns: the alerts committed, to deliver.
    /// - Throws: ``StoreError`` when any part of the batch could not be written (nothing of it is kept).
    public func commit(
        assessments: [(Detector.Assessment, Alert?)], checkpoint: LiveStateChanges?, offsets: [Store.FollowOffset]
    ) throws(StoreError) -> [Alert] {
        enqueue(.commit(assessments: assessments, checkpoint: checkpoint, offsets: offsets))
        return try awaitEnd().get()
    }

    /// Rolls the batch back (nothing of it is kept).
    public func abandon() {
        enqueue(.abandon)
        _ = awaitEnd()
    }

    private func enqueue(_ job: Job) {
        condition.lock()
        defer { condition.unlock() }
        precondition(!ended, "a batch transaction is used after it ended")
        if case .rows = job {
            while jobs.count >= capacity && outcome == nil { condition.wait() }
        }
        jobs.append(job)
        condition.broadcast()
    }

    private func next() -> Job {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty { condition.wait() }
        let job = jobs.removeFirst()
        condition.broadcast()
        return job
    }

    private func awaitEnd() -> Result<[Alert], StoreError> {
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil { condition.wait() }
        ended = true
        return outcome!
    }

    private func finish(_ result: Result<[Alert], StoreError>) {
        condition.lock()
        outcome = result
        condition.broadcast()
        condition.unlock()
    }

    /// The writer thread: one transaction, the jobs in order, until a commit or an abandon.
    private func write() {
        let opened = Timestamp.format(Int64(Date().timeIntervalSince1970))
        var committed: [Alert] = []
        do {
            try store.queue.inTransaction { db in
                // After a failed write the remaining rows are taken and dropped, so `add` never waits on
                // a writer that has stopped writing; the commit then reports the failure.
                var failure: (any Error)?
                while true {
                    switch next() {
                    case .rows(let files, let events, let calls):
                        guard failure == nil else { continue }
                        do {
                            try Store.writeRows(db, files: files, events: events, calls: calls, now: opened)
                        } catch {
                            failure = error
                        }
                    case .commit(let assessments, let checkpoint, let offsets):
                        if let failure { throw failure }
                        let nowSeconds = Int64(Date().timeIntervalSince1970)
                        let now = Timestamp.format(nowSeconds)
                        var stamped = assessments
                        let exists = try db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM alerts WHERE id = ?)")
                        for i in stamped.indices {
                            guard var alert = stamped[i].1 else { continue }
                            // An alert already in the store was emitted by an earlier run: not again.
                            if try Bool.fetchOne(exists, arguments: [alert.id]) == true {
                                stamped[i].1 = nil
                                continue
                            }
                            if alert.raisedAt == nil { alert.raisedAt = nowSeconds }
                            stamped[i].1 = alert
                        }
                        try Store.writeOutcomes(db, assessments: stamped, checkpoint: checkpoint, offsets: offsets, now: now)
                        committed = stamped.compactMap(\.1)
                        return .commit
                    case .abandon:
                        return .rollback
                    }
                }
            }
            finish(.success(committed))
        } catch {
            finish(.failure(Store.describe(error, path: store.path)))
        }
    }
}

extension Store {
    /// Opens a batch transaction written by a thread of its own (see ``BatchTransaction``).
    /// - Parameter capacity: inputs whose rows may wait to be written.
    public func beginBatch(capacity: Int = 8) -> BatchTransaction {
        BatchTransaction(store: self, capacity: capacity)
    }
}
