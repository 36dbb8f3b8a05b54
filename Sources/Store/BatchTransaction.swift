import Foundation
import GRDB
public import UsageModel

/// One batch's transaction, written by a thread of its own while the batch is still being read: each
/// input's ledger row, events, calls, sessions and alerts go in as soon as the input is read
/// (``add(files:events:calls:sessions:)``), the live state piece by piece as it is encoded
/// (``addLiveState(_:)``), and ``commit(offsets:outbox:)`` adds the followed files' offsets and the
/// outbox and commits — either all of the batch is in the store or none of it. The one way rows are
/// written: `ingest --store`, `tail`, and ``Store/write(files:events:calls:sessions:checkpoint:offsets:)``
/// for a batch held whole.
///
/// Reading and writing overlap: the rows are written on the second core while the next inputs are read,
/// and memory holds at most `capacity` pieces waiting. The commit too can overlap the reading
/// (``requestCommit(offsets:outbox:)``, then ``committed()``). Until the transaction has ended, the store
/// must not be used otherwise than by another batch transaction (its one connection is in this one).
///
/// An alert already in the store (raised by an earlier run) is left out; the others are stamped with
/// the time their rows are written, inside the batch's transaction.
///
/// ```swift
/// let transaction = store.beginBatch()
/// transaction.add(files: [record], events: outcome.events, calls: calls, sessions: outcome.stored)
/// try pipeline.checkpointChanges(pieceBytes: 1 << 20) { transaction.addLiveState($0) }
/// let alerts = try transaction.commit(offsets: [], outbox: true)
/// ```
public final class BatchTransaction: @unchecked Sendable {
    private enum Job {
        case rows(
            files: [Store.FileRecord], events: [UsageEvent], calls: [Store.CallRecord],
            sessions: [StoredSession])
        case liveState(LiveStateChanges)
        case commit(offsets: [Store.FollowOffset], outbox: Bool)
        case abandon
    }

    /// Let go by the writer thread before it tells the outcome (``write()``).
    private var store: Store?
    private let capacity: Int
    private let condition = NSCondition()
    private var jobs: [Job] = []
    /// Set by the writer when the transaction has ended: the alerts committed, or the error.
    private var outcome: Result<[Alert], StoreError>?
    private var ended = false

    init(store: Store, capacity: Int, after previous: BatchTransaction?) {
        self.store = store
        self.capacity = max(1, capacity)
        let thread = Thread { [self] in
            // Batches commit in the order they were begun, whichever thread reaches the connection first.
            previous?.waitUntilEnded()
            write()
        }
        thread.name = "chiptrail store writer"
        thread.start()
    }

    /// Queues one input's ledger row(s), events, calls and assessed sessions with their alerts; waits
    /// while `capacity` pieces wait. An error writing them is thrown by ``commit(offsets:outbox:)``.
    public func add(
        files: [Store.FileRecord], events: [UsageEvent], calls: [Store.CallRecord],
        sessions: [StoredSession] = []
    ) {
        enqueue(.rows(files: files, events: events, calls: calls, sessions: sessions))
    }

    /// Queues a piece of the live state's changes (see `IngestPipeline.checkpointChanges(pieceBytes:emit:)`);
    /// pieces are applied in the order given, a piece with scalars (`meta`) writes them too.
    public func addLiveState(_ piece: LiveStateChanges) {
        enqueue(.liveState(piece))
    }

    /// Writes the followed files' offsets and, with `outbox`, the batch's alerts into the outbox; commits.
    /// - Returns: the alerts committed, to deliver.
    /// - Throws: ``StoreError`` when any part of the batch could not be written (nothing of it is kept).
    public func commit(offsets: [Store.FollowOffset], outbox: Bool) throws(StoreError) -> [Alert] {
        requestCommit(offsets: offsets, outbox: outbox)
        return try committed()
    }

    /// Queues the commit (the followed files' offsets and, with `outbox`, the outbox go with it) and returns
    /// at once: the writer commits once it has written the pieces before it, while the caller reads on.
    /// ``committed()`` waits for the outcome. A batch begun meanwhile (``Store/beginBatch(capacity:)``)
    /// begins writing once this one has ended, so batches commit in the order they were begun.
    public func requestCommit(offsets: [Store.FollowOffset], outbox: Bool) {
        enqueue(.commit(offsets: offsets, outbox: outbox))
    }

    /// Waits until the transaction has ended (after ``requestCommit(offsets:outbox:)``).
    /// - Returns: the alerts committed, to deliver.
    /// - Throws: ``StoreError`` when any part of the batch could not be written (nothing of it is kept).
    public func committed() throws(StoreError) -> [Alert] {
        try awaitEnd().get()
    }

    /// Whether the transaction has ended (committed, failed or rolled back): ``committed()`` would not wait.
    public var hasEnded: Bool {
        condition.lock()
        defer { condition.unlock() }
        return outcome != nil
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
        switch job {
        case .rows, .liveState:
            while jobs.count >= capacity && outcome == nil { condition.wait() }
            // The writer has ended (its transaction could not begin): nothing takes the pieces any more,
            // and the commit reports why.
            if outcome != nil { return }
        case .commit, .abandon: break
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

    /// Waits until the transaction has ended, leaving its outcome to ``committed()``.
    private func waitUntilEnded() {
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil { condition.wait() }
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

    /// The writer thread: one transaction, the jobs in order, until a commit or an abandon. It begins once
    /// the store's connection is free: after the transaction before it has ended.
    private func write() {
        let result = writeRows()
        // The writer thread lives a moment past the outcome it tells, and holds this transaction: the
        // store (its connection and writer lock) is let go first, so that once ``committed()`` returns
        // the store dies with its last caller's reference — a `tail --once` that returned has released
        // its lock when the next run opens the store.
        store = nil
        finish(result)
    }

    /// The batch's transaction, from its pieces to its commit or rollback. Its references to the store
    /// (the rows' statements) end when it returns.
    private func writeRows() -> Result<[Alert], StoreError> {
        guard let store else { preconditionFailure("a batch transaction's writer runs once") }
        var writer: BatchRows?
        do {
            try store.queue.inTransaction { db in
                // After a failed write the remaining pieces are taken and dropped, so `add` never waits on
                // a writer that has stopped writing; the commit then reports the failure.
                var failure: (any Error)?
                var rows = try BatchRows(store: store, db)
                defer { writer = rows }
                while true {
                    let job = next()
                    do {
                        switch job {
                        case .rows(let files, let events, let calls, let sessions):
                            guard failure == nil else { continue }
                            try rows.add(db, files: files, events: events, calls: calls, sessions: sessions)
                        case .liveState(let piece):
                            guard failure == nil else { continue }
                            try rows.addLiveState(db, piece)
                        case .commit(let offsets, let outbox):
                            if let failure { throw failure }
                            try rows.finish(db, offsets: offsets, outbox: outbox)
                            return .commit
                        case .abandon:
                            return .rollback
                        }
                    } catch {
                        if case .commit = job { throw error }
                        failure = error
                    }
                }
            }
            return .success(writer?.alerts ?? [])
        } catch {
            return .failure(Store.describe(error, path: store.path))
        }
    }
}

/// What a batch's transaction writes, piece by piece, on the connection's thread: the one code of it,
/// for ``BatchTransaction``'s writer thread and for ``Store/write(files:events:calls:sessions:checkpoint:offsets:)``.
struct BatchRows {
    private let store: Store
    /// When the batch began: the ledger rows' time.
    private let opened: String
    private let exists: Statement
    /// The alerts written so far (stamped), to deliver once committed.
    private(set) var alerts: [Alert] = []

    init(store: Store, _ db: Database) throws {
        self.store = store
        opened = Timestamp.format(Timestamp.now())
        exists = try db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM alerts WHERE id = ?)")
    }

    /// One input's ledger row(s), events, calls and sessions; an alert already in the store (emitted by
    /// an earlier run) is left out, the others stamped with the time they are written.
    mutating func add(
        _ db: Database, files: [Store.FileRecord], events: [UsageEvent], calls: [Store.CallRecord],
        sessions: [StoredSession]
    ) throws {
        try Store.writeRows(db, files: files, events: events, calls: calls, now: opened)
        guard !sessions.isEmpty else { return }
        let nowSeconds = Timestamp.now()
        var stamped = sessions
        for i in stamped.indices {
            guard var alert = stamped[i].alert else { continue }
            if try Bool.fetchOne(exists, arguments: [alert.id]) == true {
                stamped[i].alert = nil
                continue
            }
            if alert.raisedAt == nil { alert.raisedAt = nowSeconds }
            stamped[i].alert = alert
            alerts.append(alert)
        }
        try store.writeSessions(db, stamped, now: Timestamp.format(nowSeconds))
    }

    /// A piece of the live state's changes (with its scalars when it has them).
    func addLiveState(_ db: Database, _ piece: LiveStateChanges) throws {
        try Store.writeLiveState(db, piece, now: opened, scalars: !piece.meta.isEmpty)
    }

    /// The followed files' offsets and, with `outbox`, the batch's alerts into the outbox.
    func finish(_ db: Database, offsets: [Store.FollowOffset], outbox: Bool) throws {
        try Store.writeOffsets(db, offsets)
        if outbox { try Store.writeOutbox(db, alerts) }
    }
}

extension Store {
    /// Opens a batch transaction written by a thread of its own (see ``BatchTransaction``). It begins
    /// writing once the batch begun before it has ended: begin the next batch only after the previous
    /// one's commit (or abandon) was asked for, or the two wait on each other.
    /// - Parameter capacity: inputs whose rows may wait to be written.
    public func beginBatch(capacity: Int = 8) -> BatchTransaction {
        let batch = BatchTransaction(store: self, capacity: capacity, after: lastBatch)
        lastBatch = batch
        return batch
    }
}
