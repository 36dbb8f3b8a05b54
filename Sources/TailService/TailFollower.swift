public import Alerting
import Foundation
import IngestService
import Inputs
import ObjectStore
public import Pipeline
public import Store
public import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

/// The tail loop: wake -> look at what changed -> read in batches -> commit each -> deliver the outbox;
/// between batches, a reload or stop request (``TailControl``) is honoured. Synchronous; run by
/// ``TailService`` on a thread of its own. Not `Sendable`: it is made and run on that one thread.
public final class TailFollower {
    /// What the command line chose.
    public struct Settings: Sendable {
        /// Directories (followed recursively) or files.
        public var paths: [String]
        /// The store's path as the start and stop lines name it.
        public var storeName: String
        /// Seconds between looks when nothing is signalled (and between walks without inotify).
        public var pollInterval: Double
        /// Walk the tree on a timer instead of using inotify.
        public var pollOnly: Bool
        /// Seconds a gzip file may stay incomplete and unchanged before it is reported.
        public var settle: Double
        /// Read what is there, commit, and return.
        public var once: Bool
        /// No start, status and stop lines.
        public var quiet: Bool
        /// `s3://bucket/prefix` locations followed through a queue and re-listing, instead of `paths`.
        public var objects: ObjectFollowing?
        /// Hands the allocator's free pages back (the pipeline's ``IngestPipeline/onLargeFree``: after an
        /// input that let much go, and after every ``largeDecodedBytes`` decoded); nil: nothing.
        public var onLargeFree: (@Sendable () -> Void)? = nil
        /// Input bytes decoded between two calls of ``onLargeFree`` whatever was let go (nil: the pipeline's
        /// ``IngestPipeline/largeDecodedBytes``).
        public var largeDecodedBytes: Int64? = nil
        /// The batches' sizes (nil: ``CommitPacer``'s defaults); tests set small ones.
        public var pacer: CommitPacer? = nil
        /// Called after each wake of the directory loop with what it holds then (tests).
        public var onWake: (@Sendable (WakeFigures) -> Void)? = nil
        /// Called at each wake of the directory loop after the watcher's look and before its paths are
        /// read: after the wake began, before a walk's days are listed (tests).
        public var beforeReading: (@Sendable () -> Void)? = nil
        /// How many paths a day's listings may leave out (changed after the wake began) to be looked at
        /// again on every wake; past it the next wake walks the tree instead (a `chown -R` or `cp -al`
        /// over a backlog changes every file's status: a path each would be the per-file memory back).
        public var lookAgainLimit = 16_384

        /// The settings, each as its property says.
        public init(
            paths: [String], storeName: String, pollInterval: Double, pollOnly: Bool, settle: Double, once: Bool,
            quiet: Bool, objects: ObjectFollowing? = nil
        ) {
            self.objects = objects
            self.paths = paths
            self.storeName = storeName
            self.pollInterval = pollInterval
            self.pollOnly = pollOnly
            self.settle = settle
            self.once = once
            self.quiet = quiet
        }
    }

    /// What the directory loop holds after a wake, and what it has cost so far (``Settings/onWake``).
    public struct WakeFigures: Sendable {
        /// Paths looked at on every wake (files still being written, files waiting behind one).
        public var pathsLookedAtAgain: Int
        /// Paths held by what a wake left to read (the walk's day, lists of paths), when its reading
        /// stopped behind a file still being written.
        public var pathsLeftHeld: Int
        /// Whether a wake's reading stopped early and waits to go on.
        public var leftUnread: Bool
        /// Fingerprints taken so far to ask the ledger whether a file was read (each a read of its first
        /// and last 64 KiB).
        public var ledgerFingerprints: Int
    }

    /// Where the loop's lines go (the CLI's stderr writer).
    public struct Reporter {
        /// A line as it is (escaped by the writer).
        public var line: (String) -> Void
        /// A diagnostic in the compilers' format.
        public var diagnostic: (Diagnostic) -> Void
        /// The status line on a terminal: a new text, or nil to end it with a newline.
        public var status: (String?) -> Void
        /// Clears the status line before an alert is written.
        public var clearStatus: () -> Void

        /// The writers, each as its property says.
        public init(
            line: @escaping (String) -> Void, diagnostic: @escaping (Diagnostic) -> Void,
            status: @escaping (String?) -> Void, clearStatus: @escaping () -> Void
        ) {
            self.line = line
            self.diagnostic = diagnostic
            self.status = status
            self.clearStatus = clearStatus
        }
    }

    let settings: Settings
    let store: Store
    /// stdout and syslog at once, the `--exec` command on its own queue; rows removed once all had them.
    private let outbox: OutboxDelivery
    let reporter: Reporter
    /// Reads mappings, resellers, GeoIP, the IP-intelligence feed and config again (SIGHUP), validated whole.
    let loadSetup: () throws -> PipelineSetup
    /// The pipeline; its outcomes are collected into `batch`.
    var pipeline: IngestPipeline!
    var batch: [FileOutcome] = []
    /// The batch's transaction while it is read: each input's ledger row, events and calls are written
    /// by the store's writer thread as soon as the input is read (``collect(_:)``), overlapping the
    /// reading of the next ones; ``commit(offsets:)`` ends it.
    var openBatch: BatchTransaction?

    /// Builds the pipeline, restores the last checkpoint and delivers what a crash left in the outbox.
    /// - Parameters:
    ///   - sink: stdout and syslog, written on the loop's thread.
    ///   - hook: the `--exec` command, run beside the loop (``OutboxDelivery``).
    ///   - setup: the pipeline's configuration at start.
    ///   - loadSetup: reads the configuration again, at a batch boundary after SIGHUP (``reloadSetup()``).
    /// - Throws: ``TailError`` when the store cannot be read.
    public init(
        settings: Settings, store: Store, sink: AlertFanOut, hook: ExecSink?, setup: PipelineSetup,
        reporter: Reporter, loadSetup: @escaping () throws -> PipelineSetup
    ) throws(TailError) {
        self.settings = settings
        self.store = store
        outbox = OutboxDelivery(store: store, sink: sink, hook: hook, clearStatus: reporter.clearStatus)
        self.reporter = reporter
        self.loadSetup = loadSetup
        pipeline = IngestPipeline(
            options: setup.options, detector: setup.detector, geo: setup.geo, anonymous: setup.anonymous,
            onDiagnostic: reporter.diagnostic,
            onOutcome: { [unowned self] in self.collect($0) })
        pipeline.onLargeFree = settings.onLargeFree
        if let bytes = settings.largeDecodedBytes { pipeline.largeDecodedBytes = bytes }
        do {
            // The live state as rows; from a store of an earlier version, its single blob, which the
            // first checkpoint then replaces by rows.
            // A restore from rows starts the marks itself; a store without a state (a first start) keeps
            // none until the first checkpoint, which writes the whole state: marking every change of a
            // first backlog batch costs more than writing it once.
            if try !pipeline.restore(rows: { try store.loadLiveState(row: $0) }), let state = try store.loadCheckpoint()
            {
                try pipeline.restore(state)
                pipeline.markAllChanged()
            }
            // Alerts a crash left committed but undelivered.
            try deliverOutbox()
        } catch {
            throw TailError(.store, underlying: error)
        }
    }

    /// SIGHUP, at a batch boundary: the new set replaces the pipeline's detector and GeoIP table only
    /// when it is whole — every file readable with usable rows and no row rejected; otherwise the
    /// previous set stays in force. stderr says which, and names the problems; the live state stays.
    func reloadSetup() {
        let refused =
            "chiptrail: error: reload refused; the previous mappings, resellers, GeoIP, IP-intelligence and config stay in force (fix the problems above and send SIGHUP again)"
        do {
            let fresh = try loadSetup()
            fresh.problems.forEach(reporter.diagnostic)
            if fresh.hadProblems {
                reporter.line(refused)
                return
            }
            pipeline.reload(detector: fresh.detector, geo: fresh.geo, anonymous: fresh.anonymous)
            reporter.line("chiptrail: reloaded mappings, resellers, GeoIP, IP-intelligence and config")
        } catch let error as ConfigurationError {
            error.diagnostics.forEach(reporter.diagnostic)
            reporter.line(refused)
        } catch {
            reporter.line("chiptrail: error: \(error)")
            reporter.line(refused)
        }
    }

    /// Follows the paths until `control` asks to stop (after the batch in hand is committed and
    /// delivered) or, with `once`, until the backlog is read.
    /// - Throws: ``TailError`` when the store fails (nothing further is committed).
    public func run(control: TailControl) throws(TailError) {
        if let objects = settings.objects {
            try runObjects(objects, control: control)
        } else {
            try runDirectories(control: control)
        }
    }

    /// Opens a batch: from here each input read goes to the store's writer thread as it is read
    /// (``collect(_:)``), and ``commit(offsets:)`` ends it in one transaction. Nothing is committed
    /// before then: a kill in between leaves the store as it was before the batch.
    func beginBatch() {
        batch.removeAll()
        openBatch = store.beginBatch()
    }

    /// One input's outcome: its ledger row (identity taken now, after the read), events, calls and
    /// assessed sessions go to the open batch's writer at once; `batch` keeps the rest (path, counts,
    /// whether it failed).
    func collect(_ outcome: FileOutcome) {
        guard let openBatch else { preconditionFailure("an input was read outside a batch") }
        openBatch.add(outcome, objects: settings.objects?.source)
        var rest = outcome
        rest.events = []
        rest.calls = []
        rest.decisions = []
        batch.append(rest)
    }

    /// Ends the open batch in one transaction: the rows its writer wrote as the inputs were read (ledger
    /// rows, events and calls, the sessions that closed and their alerts — also into the outbox; an alert
    /// already in the store is not raised again), the live state's changes, written piece by piece as
    /// they are encoded, and the followed files' offsets.
    func commit(offsets: [Store.FollowOffset]) throws {
        guard let transaction = openBatch else { preconditionFailure("a commit without an open batch") }
        openBatch = nil
        do {
            try pipeline.checkpointChanges(pieceBytes: 1 << 20) { transaction.addLiveState($0) }
        } catch {
            transaction.abandon()
            throw error
        }
        _ = try transaction.commit(offsets: offsets, outbox: true)
    }

    /// Delivers the outbox rows not yet handed out, in order (``OutboxDelivery``): stdout and syslog at
    /// once, the command on its queue; removes the rows every sink has had.
    @discardableResult
    func deliverOutbox(control: TailControl? = nil) throws -> Int {
        try outbox.deliverNew(stopRequested: { control?.stopRequested ?? false })
    }

    /// Removes the outbox rows the command has had since the last look (between batches only).
    /// - Throws: ``TailError`` when the store fails.
    func removeDelivered() throws(TailError) {
        do {
            try outbox.removeDelivered()
        } catch {
            throw TailError(.store, underlying: error)
        }
    }

    /// The last line of a run (unless quiet): what was read, closed and delivered, and where the state is.
    func reportStopped(read: Int, inputs noun: String, delivered: Int) {
        guard !settings.quiet else { return }
        let s = pipeline.currentSummary
        reporter.line(
            "chiptrail: tail stopped: \(read) \(noun)(s) read, \(s.records) record(s), \(s.sessions) session(s) closed, \(delivered) alert(s); state committed to \(settings.storeName)"
        )
    }

    /// At the end of the run: waits for the command to take what waits for it — without a limit at the
    /// end of `--once`, for ``OutboxDelivery/drainLimit`` seconds after a stop request (SIGTERM, SIGINT)
    /// — and says on stderr what stays in the outbox for the next start.
    /// - Throws: ``TailError`` when the store fails.
    func finishDelivery(control: TailControl) throws(TailError) {
        guard outbox.hasHook else { return }
        let stopping = control.stopRequested
        let limit = outbox.drainLimit
        let waiting = outbox.waitingForHook
        if stopping && waiting > 0 && !settings.quiet {
            reporter.line(
                "chiptrail: tail stopping: handing the \(waiting) alert(s) waiting to --exec, for up to \(Self.seconds(limit)) s"
            )
        }
        let left: Int
        do {
            left = try outbox.finish(deadline: stopping ? MonotonicClock.seconds() + limit : nil)
        } catch {
            throw TailError(.store, underlying: error)
        }
        if left > 0 {
            reporter.line(
                "chiptrail: warning: \(left) alert(s) not handed to --exec before the stop (up to \(Self.seconds(limit)) s: --exec-timeout × 3 tries and back-off, at most \(Int(OutboxDelivery.drainCap)) s); they stay in the outbox in \(settings.storeName): the next start prints them again and hands them to --exec"
            )
        }
    }

    /// Seconds as the stop lines say them: whole, or with one decimal.
    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value))" : JSONWriter.formatNumber(value, decimals: 1)
    }
}

@available(*, unavailable)
extension TailFollower: Sendable {}
