/// How many files a backlog batch of `tail` reads before it commits. A commit has a cost of its own
/// (a transaction, its rows of the live state, the ledger), which with many small files would be most
/// of a fixed batch's time. The pacer grows the batch until a commit costs at most `overhead` of the
/// batch's reading, and keeps a batch to about `maximumSeconds` of reading (a stop signal waits for the
/// batch in hand).
///
/// ```swift
/// var pacer = CommitPacer()
/// let batch = Array(backlog.prefix(pacer.files))
/// // read it, commit it
/// pacer.observe(files: batch.count, reading: readSeconds, committing: commitSeconds)
/// ```
public struct CommitPacer: Sendable {
    /// Files in the next batch.
    public private(set) var files: Int
    public let minimum: Int
    public let maximum: Int
    public let overhead: Double
    public let maximumSeconds: Double

    public init(minimum: Int = 128, maximum: Int = 4096, overhead: Double = 0.1, maximumSeconds: Double = 2) {
        precondition(minimum >= 1 && maximum >= minimum && overhead > 0 && maximumSeconds > 0)
        self.minimum = minimum
        self.maximum = maximum
        self.overhead = overhead
        self.maximumSeconds = maximumSeconds
        files = minimum
    }

    /// Sets the next batch's size from the last one: `files` files read in `reading` seconds and
    /// committed in `committing` seconds. Grows at most fourfold per batch (one slow commit is not a trend).
    public mutating func observe(files read: Int, reading: Double, committing: Double) {
        guard read > 0 else { return }
        let perFile = max(reading, 0) / Double(read)
        var wanted = maximum
        if perFile > 0 {
            let amortised = committing / (overhead * perFile)
            let prompt = maximumSeconds / perFile
            wanted = Int(min(max(amortised, 0), prompt, Double(maximum)).rounded(.up))
        }
        files = min(max(wanted, minimum), maximum, max(files, read) * 4)
    }
}
