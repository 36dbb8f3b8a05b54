public import Pipeline
public import Store
public import UsageModel

/// Groups inputs into store transactions (a few dozen files, or a few thousand events, or the end of
/// the input): each transaction holds the ledger rows of its files with everything they produced, and
/// alerts are printed only once committed — so an interrupted run leaves no half-written input and
/// prints no alert the store does not have. Each input's rows are written by the store's writer thread
/// while the next inputs are read (``Store/BatchTransaction``), its sessions and alerts with them, and a
/// full batch commits while the next one is read and written: its alerts are handed over at the first
/// input merged after it committed (at the latest when the next batch is full, or at the end). At most
/// one batch is committing; a batch after one that failed is rolled back, never committed.
public final class StoreWriter {
    public let store: Store
    private var open: BatchTransaction?
    /// The batch whose commit was requested and whose alerts were not yet handed over.
    private var committing: BatchTransaction?
    private var files = 0
    private var rows = 0
    static let maxFiles = 32
    static let maxEvents = 20_000

    /// The inputs, whose objects (`s3://bucket/key`, while read and merged) have bucket, key and ETag
    /// as their ledger identity.
    public let objects: InputSequence?

    public init(store: Store, objects: InputSequence? = nil) {
        self.store = store
        self.objects = objects
    }

    /// Commits the batch still open, if any (an interrupted run's last inputs), after the one committing;
    /// hands their alerts to `deliver` in order.
    /// - Throws: the first batch's failure (alerts of batches committed before it were handed over).
    public func commitOpen(deliver: (Alert) -> Void) throws(StoreError) {
        try handOver(waiting: true, deliver: deliver)
        guard let transaction = open else { return }
        open = nil
        files = 0
        rows = 0
        transaction.requestCommit(offsets: [], outbox: false)
        committing = transaction
        try handOver(waiting: true, deliver: deliver)
    }

    /// Adds one outcome; hands the alerts of the batches committed meanwhile to `deliver` (all of them at
    /// the end of the input: the outcome without a path).
    /// - Throws: the failure of a batch (nothing of it, and nothing after it, is kept).
    public func add(_ outcome: FileOutcome, deliver: (Alert) -> Void) throws(StoreError) {
        try handOver(waiting: false, deliver: deliver)
        let transaction = open ?? store.beginBatch()
        open = transaction
        let added = transaction.add(outcome, objects: objects?.source)
        files += added.files
        rows += added.rows
        let last = outcome.isFinal
        guard last || files >= Self.maxFiles || rows >= Self.maxEvents else { return }
        open = nil
        files = 0
        rows = 0
        // The batch before must have committed: after a failed one, this one is rolled back.
        do throws(StoreError) {
            try handOver(waiting: true, deliver: deliver)
        } catch {
            transaction.abandon()
            throw error
        }
        // An alert already in the store was emitted by an earlier run: not again (the writer leaves it out).
        transaction.requestCommit(offsets: [], outbox: false)
        committing = transaction
        if last { try handOver(waiting: true, deliver: deliver) }
    }

    /// Hands the alerts of the batch committing to `deliver` once it has committed (`waiting`: waits
    /// for it; else only if it already has).
    /// - Throws: its failure; the batch open after it, if any, is then rolled back.
    private func handOver(waiting: Bool, deliver: (Alert) -> Void) throws(StoreError) {
        guard let transaction = committing, waiting || transaction.hasEnded else { return }
        committing = nil
        do throws(StoreError) {
            for alert in try transaction.committed() { deliver(alert) }
        } catch {
            open?.abandon()
            open = nil
            throw error
        }
    }
}
