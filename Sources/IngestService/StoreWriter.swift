import Inputs
import ObjectStore
public import Pipeline
public import Store
public import UsageModel

/// Groups inputs into store transactions (a few dozen files, or a few thousand events, or the end of
/// the input): each transaction holds the ledger rows of its files with everything they produced, and
/// alerts are printed only once committed — so an interrupted run leaves no half-written input and
/// prints no alert the store does not have. Each input's rows are written by the store's writer thread
/// while the next inputs are read (``Store/BatchTransaction``), its sessions and alerts with them.
public final class StoreWriter {
    public let store: Store
    private var open: BatchTransaction?
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

    /// Commits the batch still open, if any (an interrupted run's last inputs); returns its alerts.
    public func commitOpen() throws(StoreError) -> [Alert] {
        guard let transaction = open else { return [] }
        open = nil
        files = 0
        rows = 0
        return try transaction.commit(offsets: [], outbox: false)
    }

    /// Adds one outcome; returns the alerts committed by this call (none until a batch is written).
    public func add(_ outcome: FileOutcome) throws(StoreError) -> [Alert] {
        let transaction = open ?? store.beginBatch()
        open = transaction
        let added = transaction.add(outcome, objects: objects?.source)
        files += added.files
        rows += added.rows
        let last = outcome.isFinal
        guard last || files >= Self.maxFiles || rows >= Self.maxEvents else { return [] }
        open = nil
        files = 0
        rows = 0
        // An alert already in the store was emitted by an earlier run: not again (the writer leaves it out).
        return try transaction.commit(offsets: [], outbox: false)
    }
}
