import Inputs
public import ObjectStore
public import Pipeline
public import Store

extension BatchTransaction {
    /// One input's outcome into the batch, as `ingest --store` and `tail` both write it: its ledger row,
    /// its events, calls and assessed sessions (with their alerts), handed to the store's writer thread
    /// at once. The ledger identity is taken now, after the read: an object's ETag and size (`objects`
    /// knows the inputs that are objects), a file's size and fingerprint. A failed input (read again
    /// later) and the end-of-input outcome have no ledger row.
    /// - Returns: the ledger rows added (0 or 1) and the events and calls added.
    @discardableResult
    public func add(_ outcome: FileOutcome, objects: ObjectReaderSource?) -> (files: Int, rows: Int) {
        var ledger: [Store.FileRecord] = []
        if let path = outcome.path, !outcome.failed {
            var record = Store.FileRecord(
                path: path, size: 0, fingerprint: "", records: outcome.records, rejected: outcome.rejected)
            if let (size, fingerprint) =
                outcome.ledgerIdentity ?? objects?.object(named: path).map(ObjectInputs.fingerprint)
            {
                record.size = size
                record.fingerprint = fingerprint
            } else {
                // A local file: with its stamp as fingerprinted (`tail` knows it again by its `stat`).
                (record.size, record.fingerprint, record.modified, record.inode, record.changed) =
                    InputFingerprint.stamped(path: path)
            }
            ledger.append(record)
        }
        add(
            files: ledger, events: outcome.events,
            calls: outcome.calls.map {
                Store.CallRecord(call: $0.call, accountID: $0.accountID, restricted: $0.restricted)
            },
            sessions: outcome.stored)
        return (ledger.count, outcome.events.count + outcome.calls.count)
    }
}
