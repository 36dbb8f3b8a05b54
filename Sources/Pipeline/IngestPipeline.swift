#if canImport(Glibc)
    import Glibc
#endif
public import Foundation
public import UsageModel
public import Inputs
public import Ownership
public import Detection
public import LogFormats
import Sessions
import Catalog

/// Options of the pipeline, as `ingest`, `tail` and `normalize` set them.
public struct IngestOptions: Sendable {
    /// Parallel readers; files are read concurrently and merged in input order.
    public var jobs: Int
    public var limits: InputLimits
    public var maxRecordBytes: Int
    public var format: InputFormat
    /// How late an event may arrive (behind the newest event time) and still join its session.
    public var allowedLateness: Int64
    /// The largest gap between billing periods of one resource within one session.
    public var sessionGap: Int64 = 2 * 3600
    /// How long closed runs are remembered for billing lines delivered late or again.
    public var billingRedelivery: Int64 = Sessionizer.defaultRememberClosedRuns
    /// Which instance types of billing lines become usage events (nil: all). `ingest` passes the
    /// catalogue's accelerated types unless the config says `billing_sessions = all`.
    public var billingTypes: (@Sendable (String) -> Bool)? = nil
    /// Whether lifecycle events of every instance type become sessions (config `sessions = all`); by
    /// default only types the catalogue knows as accelerated do, and resources already followed: the
    /// live state is what can alert, not every t3.micro (their events still reach the store).
    public var allLifecycleTypes = false
    /// Days of event ids kept for de-duplication behind the newest event time.
    public var dedupRetentionDays: Int64
    /// Which calls (beyond compute events) each outcome carries, for the store.
    public var keepCalls: KeptCalls = .none
    /// Whether sessions are scored at all (off only to measure what scoring costs: sessions are cut and
    /// counted, nothing is assessed, no alert is raised).
    public var scoring = true
    /// Opens inputs that are not local paths (`s3://bucket/key`): a reader, or nil for a local path.
    /// nil: every input is a path.
    public var opener: (@Sendable (String, InputLimits) throws(InputError) -> InputReader?)? = nil
    /// Inputs are files `chiptrail normalize` wrote (``InputNormalizer``): each is merged as the input
    /// it was made from, under that input's name (`ingest --normalized`).
    public var readsNormalized = false
    /// Bytes of held records (``EventTimeOrder``) `ingest` keeps in memory before it writes them to a
    /// temporary file until they are released (nil: all in memory). The output is the same either way.
    /// 16 MiB: the standard corpus never reaches it; the large customer's 1 GB at `--jobs 2` peaks at
    /// ~130 MB with it, ~152 MB with 32 MiB, for the same CPU time (issue 17).
    public var heldMemoryBudget: Int? = 16 << 20
    /// Input bytes (decoded) whose results a reader may leave waiting for the merge, per reader
    /// (``OrderedWorkPool``): past it, no input is pulled ahead. 16 MiB: the large customer's 4 GB at
    /// `--jobs 2` peaked at 147–152 MB against 155–158 with none, for 2–4% of its time; 8 MiB gave
    /// 139–142 MB for 5–8% (issue 17; "Reader pool" in the README's Performance).
    public var readAheadBytes: Int64 = 16 << 20

    /// Calls handed on for storage.
    public enum KeptCalls: Sendable {
        /// None (`--no-store`).
        case none
        /// Sign-ins and calls from restricted countries: the calls evidence uses.
        case evidence
        /// Every call (`--store-all`).
        case all
    }

    public init(
        jobs: Int = 1, limits: InputLimits = InputLimits(), maxRecordBytes: Int = 16 << 20, format: InputFormat = .auto,
        allowedLateness: Int64 = 6 * 3600, dedupRetentionDays: Int64 = 2
    ) {
        self.jobs = max(1, jobs)
        self.limits = limits
        self.maxRecordBytes = maxRecordBytes
        self.format = format
        self.allowedLateness = allowedLateness
        self.dedupRetentionDays = dedupRetentionDays
    }
}

/// What merging one input produced: its ledger facts, its new compute events, and the sessions that
/// closed (assessed; with an alert where the assessment alerts). `path` is nil for the final outcome
/// that carries the sessions still open at the end of the input.
public struct FileOutcome: Sendable {
    public var path: String?
    public var storedBytes: Int64 = 0
    public var records = 0
    public var rejected = 0
    public var failed = false
    public var events: [UsageEvent] = []
    /// Calls kept for the store (see ``IngestOptions/keepCalls``), with their account ids.
    public var calls: [(call: CallObservation, accountID: String, restricted: Bool)] = []
    public var decisions: [Detector.Decision] = []
    /// The input's identity in a store's ledger when it was taken where the input was read (an object
    /// normalised on another machine), else nil: taken when the ledger row is written.
    public var ledgerIdentity: (size: Int64, fingerprint: String)? = nil

    /// Whether this is the end-of-input outcome (no input: the last sessions closed at the end, the
    /// summary).
    public var isFinal: Bool { path == nil && !isEndPart }
    /// Sessions closed at the end of the input, handed on in parts before the final outcome (no input,
    /// not final: a store writes them in the final outcome's batch).
    public var isEndPart = false

    /// The decided sessions as the store keeps them.
    public var stored: [StoredSession] { decisions.map(\.stored) }

    public init(path: String?) { self.path = path }
}

/// Counts of a run, for the summary line and the exit status.
public struct IngestSummary: Sendable {
    public var files = 0
    public var filesFailed = 0
    public var records = 0
    public var recordsRejected = 0
    public var documentsSkipped = 0
    public var duplicateEvents = 0
    public var computeEvents = 0
    public var sessions = 0
    public var alerts = 0
    public var storedBytes: Int64 = 0
    public var decodedBytes: Int64 = 0
    public var accounts = 0
    /// Calls and lifecycle events that arrived after the frontier had passed their time (delivered later
    /// than the allowed lateness): used, but where they join depends on when they came.
    public var lateRecords = 0
    /// Whether the run stopped before the end of its input (``StopRequest``): the inputs after the last
    /// one merged were not read, and the sessions still running and the records held for the event-time
    /// frontier were not decided.
    public var interrupted = false

    /// Whether any input was rejected (whole or in part): exit status 1.
    public var rejectedInput: Bool { filesFailed > 0 || recordsRejected > 0 }
}

/// Reads inputs with `jobs` parallel readers, merges their results in input order (so the output does
/// not depend on the number of readers), de-duplicates events, cuts sessions, scores them and hands
/// each input's ``FileOutcome`` (its rows, decisions and diagnostics) to the caller, in input order.
/// The callbacks (`onDiagnostic`, `onOutcome`, `onProgress`) are called from one thread at a time: the
/// calling thread, or with `--jobs` > 1 in ``run(expected:next:stop:)`` a thread of the pipeline's own
/// (the stage that decides merged inputs) until the end of the input, then the calling thread again.
public final class IngestPipeline {
    let options: IngestOptions
    private(set) var detector: Detector
    private(set) var geo: GeoIPTable
    /// The IP-intelligence feed (`--ip-intel`); empty without one.
    private(set) var anonymous: AnonymousNetworkTable
    let onDiagnostic: (Diagnostic) -> Void
    /// Called once per input after it is merged, and at the end for the sessions still open: a part
    /// (``FileOutcome/isEndPart``) every `endPartSessions` sessions, then the final outcome.
    let onOutcome: (FileOutcome) -> Void
    public static let endPartSessions = 2048
    /// A lifecycle event's de-duplication key is the hash of "compute|" and its id: FNV-1a is a chain,
    /// so the id is hashed from the prefix's hash (no string made per event).
    static let computeKeySeed = StableHash.hash("compute|")
    /// Called after each input is held and its decisions handed on: inputs done, inputs in all, the summary so far
    /// (on the stage's thread at `--jobs` > 1).
    public var onProgress: ((Int, Int, IngestSummary) -> Void)?
    /// Called after a large block of memory is let go in the middle of the allocator's arenas: an input
    /// with at least ``largeInputLines`` billing lines held and its lines let go (on the stage's thread at
    /// `--jobs` > 1), or the de-duplication window's tables of days it left, ``largeWindowDrop`` bytes or
    /// more (on the merge's thread); and after every ``largeDecodedBytes`` of input decoded, whatever was
    /// let go. The CLI hands the allocator's free pages back to the kernel there.
    ///
    /// At `--jobs 2` the merge (the window), the readers (the inputs) and the stage (the sessions and the
    /// detection state, which grow) allocate in different arenas, and what one lets go the others cannot
    /// use: 105–125 MB free in the arenas from the trail's first input to the run's end, at the
    /// 20,000-account world's peak of 418 MB (mallinfo2 sampled every 2 s, issue 17). The export is read
    /// first and its lines make a table for every day of the month; the trail's first input drops those
    /// before its days at once.
    public var onLargeFree: (() -> Void)?
    /// The billing lines that make an input large for ``onLargeFree``: 65,536 lines are 4.5 MiB packed,
    /// besides their texts and the export's decoded text. The 20,000-account export has 22 such inputs.
    public var largeInputLines = 65_536
    /// The bytes of the window's tables let go at once that are large for ``onLargeFree``.
    public var largeWindowDrop = 8 << 20
    /// Input bytes decoded (``IngestSummary/decodedBytes``) after which ``onLargeFree`` is called again
    /// whatever was let go (nil: never), on the thread that holds the inputs. What the inputs leave free is
    /// mostly small chunks between the state that grows, and at `--jobs 2` the threads that would use them
    /// again allocate elsewhere: between two of the window's large drops (a day of event time apart), the
    /// 20,000-account world with billing kept 35–45 MB free at `--jobs 1` and 100–140 MB at `--jobs 2`,
    /// most of it resident (issue 17).
    public var largeDecodedBytes: Int64? = 128 << 20
    /// ``IngestSummary/decodedBytes`` when ``hold(_:)`` last called ``onLargeFree``.
    private var decodedAtLastFree: Int64 = 0

    var dedup: WindowedDeduplicator
    /// The keys the window held when the input ended and it was dropped.
    private(set) var windowKeysAtEnd = 0
    var sessionizer: Sessionizer
    var activity = DenseKeyTable<AccountActivity>(capacity: 4096)
    var accountNames = KeyTable<String>(capacity: 4096)
    /// Accounts seen only in compute or billing records (no calls), for the summary.
    var eventAccounts = Set<UInt64>()
    /// Accounts sharing uncommon identifiers, for the shared-identity evidence.
    var identities = IdentityGraph()
    /// Restricted use of accounts with unknown end customers, per reseller (structuring evidence).
    var resellerUse = ResellerAggregate()
    /// Accelerator-hours of closed sessions per account and peer group (volume evidence).
    var volume = VolumeBook()
    /// The newest event time (audit logs') of the inputs held and decided: decisions are taken up to it.
    var watermark: EpochSeconds = .min
    /// The newest event time of the inputs merged (the de-duplication window's); ``watermark`` follows it
    /// input by input as each is held (``hold(_:)``), later than the merge with `--jobs` > 1.
    var mergedWatermark: EpochSeconds = .min
    /// The counts of the inputs merged (sessions and alerts are ``decisionCounts``': counted where the
    /// held records are decided, on the stage's thread with `--jobs` > 1).
    private var summary = IngestSummary()
    /// Sessions closed and alerts raised.
    private var decisionCounts = (sessions: 0, alerts: 0)
    /// The summary so far: the inputs' counts and the decisions'.
    private var summarized: IngestSummary { withDecisionCounts(summary) }

    /// `inputs`' counts beside the decisions' so far.
    private func withDecisionCounts(_ inputs: IngestSummary) -> IngestSummary {
        var s = inputs
        s.sessions = decisionCounts.sessions
        s.alerts = decisionCounts.alerts
        return s
    }
    /// Sessions alerted while still running, by resource: their close raises no second alert.
    var alertedOpen: [String: [AlertedRun]] = [:]
    /// Calls and lifecycle events held until the event-time frontier passes them (their order and the
    /// instants of every decision are then the input's, not the arrival's).
    var order = EventTimeOrder()
    /// Accounts with billing lines read since the last tick (their running sessions are looked at then).
    var billedAccounts = Set<String>()
    /// The jurisdictions' codes restricted at some time (``RestrictedJurisdictions/everRestricted``): an
    /// account without a call from any of them has no call from a restricted country whatever the time.
    private var everRestricted: [UInt64] = []
    /// Each account's identity partners (``identityPartners(of:)``) while the identity graph stands still:
    /// nil while calls are being observed, a table from the end of an input's observations until the
    /// next input's first. An input re-assesses every live session of the accounts it touches, and
    /// `mayAlert` and `assess` both ask for the partners of each session's account: with billing
    /// exports read first every resource keeps its whole period's sessions live until the audit log's
    /// time passes them, so an account had dozens of sessions, each walking the account's identifiers
    /// and describing every partner twice at every input (96 s instead of 3 s for a 200-account world
    /// with billing). With the table the partners are found once per account and input: an input
    /// costs O(accounts touched × partner search + live sessions of those accounts), not
    /// O(live sessions × partner search).
    var partnerMemo: [UInt64: [Detector.IdentityPartner]]? = nil
    /// Partners (and accounts) in `partnerMemo`, which is emptied before it holds more than
    /// `memoPartnerLimit`: the end of the input assesses every running session with the graph standing
    /// still, and the table kept every account's partners, described, until the last (2,808 accounts,
    /// 35,814 partners at the end of a 20,000-account run; the searches behind them, bounded in
    /// ``Detector/PartnerSearches``, were most of its +75 MB, issue 17). A cache: emptying it changes
    /// no result.
    private var memoPartners = 0
    static let memoPartnerLimit = 4096
    /// The identity graph's partner searches behind `partnerMemo` (each account's partners, which the
    /// search of another account's may read again), kept while it is a table: emptied when it is made one.
    private var graphSearches = Detector.PartnerSearches()
    /// Whether calls through an address count as through an exit (`shared_exit_accounts`), as the identity
    /// graph answered at the first call through it in the slice being applied (emptied at each slice).
    private var exitVerdicts = ExitVerdicts()
    /// How the population's accounts call through addresses many accounts share, while
    /// `shared_exit_accounts` is on: an account's share of such calls up to the typical account's is no
    /// evidence of hiding (``AccountActivity/sharedAsDirect(where:beyond:)``).
    private var sharedNorm = SharedExitNorm()
    /// Partner searches made (memo misses), for tests that count work.
    private(set) var partnerSearches = 0
    /// What changed since the last checkpoint (`tail`; see LiveCheckpoint.swift): nil while none is taken.
    var changes: LiveChanges? = nil
    /// Closed restricted sessions that raised no alert, per account: the last
    /// `DetectionConfig.lookbackSessions`, assessed again when their account alerts or a ring's alert
    /// counts it (evidence that builds up later — a ring forming, calls from a restricted country —
    /// also covers the sessions that ended before it). At most that many sessions per account with restricted use.
    var lookback: [UInt64: [RememberedSession]] = [:]
    /// Each account's last alert (``DetectionConfig/lookbackCarry``): its later sessions, and those
    /// look-back assesses again, alert while their own evidence still names a restricted jurisdiction.
    /// One entry per account that alerted.
    var standing: [UInt64: AccountStanding] = [:]

    public init(
        options: IngestOptions, detector: Detector, geo: GeoIPTable,
        anonymous: AnonymousNetworkTable = AnonymousNetworkTable(),
        onDiagnostic: @escaping (Diagnostic) -> Void,
        onOutcome: @escaping (FileOutcome) -> Void
    ) {
        self.options = options
        self.detector = detector
        self.geo = geo
        self.anonymous = anonymous
        self.onDiagnostic = onDiagnostic
        self.onOutcome = onOutcome
        dedup = WindowedDeduplicator(retentionDays: options.dedupRetentionDays)
        sessionizer = Sessionizer(allowedLateness: options.allowedLateness, usageGap: options.sessionGap)
        sessionizer.rememberClosedRuns = options.billingRedelivery
        noteRestrictions()
    }

    /// Takes the detector's restricted set for ``decide(at:touched:)``'s filter.
    private func noteRestrictions() {
        everRestricted = detector.jurisdictions.everRestricted
    }

    /// Replaces mappings, resellers, catalogue, thresholds, GeoIP and the IP-intelligence feed (SIGHUP in
    /// `tail`); the live state stays.
    public func reload(detector: Detector, geo: GeoIPTable, anonymous: AnonymousNetworkTable) {
        self.detector = detector
        self.geo = geo
        self.anonymous = anonymous
        partnerMemo = nil  // the identity parameters may have changed
        noteRestrictions()
    }

    /// One input of `tail`: a path, where to start in it, and whether to follow it (leave a last line
    /// still being written for later).
    public struct FollowedInput: Sendable {
        public var path: String
        public var offset: Int64
        /// The line ends before `offset` (records are numbered from the next line); nil when not known:
        /// counted from the file.
        public var lines: Int?
        public var follow: Bool

        public init(path: String, offset: Int64 = 0, lines: Int? = 0, follow: Bool = false) {
            self.path = path
            self.offset = offset
            self.lines = lines
            self.follow = follow
        }
    }

    /// Where the read of a followed plain file stopped: the offset after its last complete record and
    /// the line ends before it.
    public struct FollowedPosition: Sendable, Equatable {
        public var offset: Int64
        public var lines: Int

        public init(offset: Int64, lines: Int) {
            self.offset = offset
            self.lines = lines
        }
    }

    /// Reads `inputs` in order and merges them, leaving sessions open (`tail`): the state carries on to
    /// the next call. An input whose gzip stream ends early (still being written) is not merged when
    /// `deferIncomplete` is set: it is returned, and nothing of it counts.
    ///
    /// `holdBehind(path)` says whether the inputs after an incomplete one wait for it: files are merged
    /// in the order given (their delivery order), and reading later files past one still being written
    /// would move the event-time frontier past its records, so that where they join would depend on
    /// how fast it was written. `tail` holds until the settle time has passed.
    /// - Returns: the inputs deferred, those held behind one (`held`: not read, nothing of them counts),
    ///   and for followed plain files where their read stopped.
    public func runIncrementally(
        inputs: [FollowedInput], deferIncomplete: Bool, holdBehind: (String) -> Bool = { _ in false }
    ) -> (deferred: [String], held: [String], followedTo: [String: FollowedPosition]) {
        let processor = FileProcessor(options: options, geo: geo, anonymous: anonymous)
        var deferred: [String] = []
        var held: [String] = []
        var followed: [String: FollowedPosition] = [:]
        for (index, input) in inputs.enumerated() {
            let result = processor.process(input.path, from: input.offset, lines: input.lines, follow: input.follow)
            if deferIncomplete && result.incomplete {
                deferred.append(input.path)
                if holdBehind(input.path) {
                    held = inputs[(index + 1)...].map(\.path)
                    break
                }
                continue
            }
            if let to = result.followedTo { followed[input.path] = to }
            hold(deduplicate(result))
        }
        summary.accounts = activity.count + eventAccounts.filter { activity[$0] == nil }.count
        summary.lateRecords = order.late
        return (deferred, held, followed)
    }

    public var currentSummary: IngestSummary { summarized }

    /// The live state — de-duplication window, open sessions, account activity, watermark — as bytes,
    /// for checkpoints that commit with the ledger.
    public func snapshot() throws -> Data {
        let names = accountNames.elements
        let active = activity.elements
        let state = PipelineState(
            dedup: dedup.snapshot, sessions: sessionizer.snapshot,
            activityKeys: active.map(\.key), activity: active.map(\.value),
            accountKeys: names.map(\.key), accountNames: names.map(\.value),
            eventAccounts: Array(eventAccounts), watermark: watermark, identities: identities.snapshot,
            resellerUse: resellerUse,
            alertedOpen: alertedOpen.keys.sorted().flatMap { alertedOpen[$0]! }, volume: volume, order: order.snapshot,
            billedAccounts: billedAccounts.sorted())
        return try CheckpointCoder.encode(state)
    }

    /// Restores what ``snapshot()`` saved.
    public func restore(_ data: Data) throws {
        let state = try CheckpointCoder.decode(PipelineState.self, from: data)
        dedup.restore(state.dedup)
        sessionizer.restore(state.sessions)
        activity = DenseKeyTable<AccountActivity>(capacity: max(1024, state.activityKeys.count))
        for (k, v) in zip(state.activityKeys, state.activity) { activity.update(k, default: { v }) { _ in } }
        accountNames = KeyTable<String>(capacity: max(4096, state.accountKeys.count))
        for (key, name) in zip(state.accountKeys, state.accountNames) { accountNames.insert(key, name) }
        eventAccounts = Set(state.eventAccounts)
        watermark = state.watermark
        mergedWatermark = state.watermark
        identities = IdentityGraph()
        identities.restore(state.identities)
        partnerMemo = nil
        resellerUse = state.resellerUse
        alertedOpen = Dictionary(grouping: state.alertedOpen ?? [], by: \.resource)
        volume = state.volume ?? VolumeBook()
        order = state.order.map(EventTimeOrder.init(restoring:)) ?? EventTimeOrder()
        billedAccounts = Set(state.billedAccounts ?? [])
        recountSharedNorm()
    }

    /// Counts the accounts restored (``SharedExitNorm``: a function of the activity, not saved).
    func recountSharedNorm() {
        sharedNorm = SharedExitNorm()
        guard detector.config.sharedExitAccounts >= 1 else { return }
        for (_, a) in activity.elements { sharedNorm.move(from: -1, to: SharedExitNorm.percent(a)) }
        sharedNorm.settle()
    }

    /// Reads every input, then closes the remaining sessions (those still running are `open`).
    /// - Complexity: O(n) in the input bytes; memory bounded by the live sessions and accounts.
    public func run(inputs: [String]) -> IngestSummary {
        var remaining = inputs.makeIterator()
        return run(expected: inputs.count) { remaining.next() }
    }

    /// Reads the inputs `next` gives, one after another until it gives nil, then closes the remaining
    /// sessions. Inputs are pulled as readers free up — at most `2 × jobs` are pulled and not yet
    /// merged, fewer when their decoded results pass ``IngestOptions/readAheadBytes`` — so a source that
    /// lists as it goes keeps memory flat in the number of inputs; the output is the same whatever the
    /// number of readers.
    ///
    /// A stop requested meanwhile is seen at the next input boundary: the run returns after the inputs
    /// merged so far, `interrupted`, without reading the rest (an input a reader holds is left to it:
    /// the pool's readers are not waited for) and without deciding what only the end of the input
    /// decides — no `onOutcome` for the end.
    /// - Parameters:
    ///   - expected: how many inputs there should be, for progress (0: not known).
    ///   - next: the next input's name, or nil at the end; called from one thread at a time, not
    ///     necessarily the caller's.
    ///   - stop: asks the run to stop reading (SIGINT, SIGTERM, a closed stdout).
    /// - Complexity: O(n) in the input bytes; memory bounded by the live sessions and accounts.
    public func run(expected: Int, next: @escaping () -> String?, stop: StopRequest? = nil) -> IngestSummary {
        var done = 0
        if let budget = options.heldMemoryBudget, options.scoring { order.startSpilling(budget: budget) }
        if options.jobs <= 1 {
            let processor = FileProcessor(options: options, geo: geo, anonymous: anonymous)
            while stop?.isRequested != true, let path = next() {
                hold(deduplicate(processor.process(path), counting: &done, of: expected))
            }
        } else {
            let pool = OrderedWorkPool(
                next: next, jobs: options.jobs, options: options, geo: geo, anonymous: anonymous)
            stop?.onRequest { pool.stop() }
            pool.start()
            if changes == nil {
                mergeStaged(from: pool, expected: expected, done: &done, stop: stop)
            } else {
                while let result = pool.take(done) {
                    hold(deduplicate(result, counting: &done, of: expected))
                }
            }
            if stop?.isRequested != true { pool.join() }
        }
        if stop?.isRequested == true {
            summary.interrupted = true
            summary.accounts = activity.count + eventAccounts.filter { activity[$0] == nil }.count
            summary.lateRecords = order.late
            return summarized
        }
        // The end of the input: no record comes any more, so the de-duplication window goes (32 MiB for
        // the large customer's hour of 3 M records, all still in the window when its held records are
        // released here); what is still held is released, then the sessions still running close.
        windowKeysAtEnd = dedup.count
        dedup = WindowedDeduplicator(retentionDays: options.dedupRetentionDays)
        var part = FileOutcome(path: nil)
        part.isEndPart = true
        Self.logEndPhase("end of input")
        part.decisions = release(through: nil)
        Self.logEndPhase("held records released")
        let lastTime = watermark == .min ? 0 : watermark
        // One session at a time, handed on `endPartSessions` at a time: the sessions still running are
        // neither all held at once nor all their assessments (a large customer closes tens of thousands
        // here, issue 17). Look-back needs only those that alerted.
        var alerted: [Detector.Decision] = []
        func assess(_ session: Session) {
            for decision in finish([session], at: lastTime) {
                if decision.alert != nil { alerted.append(decision) }
                part.decisions.append(decision)
            }
            if part.decisions.count >= Self.endPartSessions {
                onOutcome(part)
                part.decisions = []
            }
        }
        if options.jobs > 1 {
            // The readers are done and their cores idle: the sessionizer builds the sessions on a thread of
            // its own and hands them on in its order, while this one assesses them. That thread touches
            // the sessionizer alone, and this one leaves the sessionizer alone until the queue ends.
            let sessions = HandoffQueue<Session>(batchSize: Self.endHandoffBatch, depth: 8)
            let close = UncheckedSendable(value: { [unowned self] in
                self.sessionizer.finish(at: lastTime) { sessions.put($0) }
                sessions.finish()
            })
            let thread = Thread { close.value() }
            thread.stackSize = 8 << 20
            thread.start()
            while let batch = sessions.take() {
                for session in batch { assess(session) }
            }
        } else {
            sessionizer.finish(at: lastTime) { assess($0) }
        }
        if Self.memoryLog {
            let partners = (partnerMemo ?? [:]).values.reduce(0) { $0 + $1.count }
            Self.logEndPhase(
                "partners kept \(partners) of \(partnerMemo?.count ?? 0) accounts, searched \(graphSearches.kept)")
        }
        Self.logEndPhase("running sessions closed")
        // The rest, and what look-back finds, make the final outcome.
        part.isEndPart = false
        part.decisions += lookBack(after: alerted, at: lastTime)
        Self.logEndPhase("looked back")
        onOutcome(part)
        Self.logEndPhase("last outcome handed on")
        summary.accounts = activity.count + eventAccounts.filter { activity[$0] == nil }.count
        summary.lateRecords = order.late
        return summarized
    }

    /// Merges the pool's results on a thread of its own and holds and decides them on this one
    /// (`--jobs` > 1), fed in input order through a bounded queue: while the stage applies an input's
    /// released records, assesses, decides and hands its outcome on, the merge de-duplicates the next
    /// inputs. The two touch disjoint state: the merge the de-duplication window, the merged
    /// watermark and the inputs' counts (``deduplicate(_:)``); the stage every other piece — the held
    /// order, the account names, the accounts of events, the sessionizer, the detection state, the
    /// decisions' counts — and every callback (``hold(_:)``), in the order and with the values one
    /// thread would have. Not while checkpoints are taken (`changes`: both sides would note changes).
    ///
    /// A stop is seen by the stage at an input boundary too: the inputs merged but not yet held are
    /// dropped, as the pool drops those read but not yet merged, and the counts are those of the inputs
    /// held (`summary` is set back to the last one's): the run ends where `--jobs 1` would have, had the
    /// stop come at the same input. Returns once the stage is done.
    private func mergeStaged(from pool: OrderedWorkPool, expected: Int, done: inout Int, stop: StopRequest?) {
        precondition(changes == nil)
        let stage = HandoffQueue<MergedInput>(batchSize: 1, depth: Self.stageDepth)
        let mergeEnded = DispatchSemaphore(value: 0)
        // The merge's count of inputs done, on its thread until it ends.
        let merging = UncheckedSendable(value: Box(done))
        // Written here, as the stage holds inputs; set before the merge's thread starts writing the counts.
        var counted = (summary: summary, done: done)
        // An input is taken from the pool once the queue has room for it: one waiting for room would be one
        // more input's batch in memory, and its reader's slot would stay counted free.
        let merge = UncheckedSendable(value: { [unowned self] in
            while true {
                stage.waitForRoom()
                guard let result = pool.take(merging.value.value) else { break }
                stage.put(self.deduplicate(result, counting: &merging.value.value, of: expected))
            }
            stage.finish()
            mergeEnded.signal()
        })
        let thread = Thread { merge.value() }
        thread.stackSize = 8 << 20
        thread.start()
        // The stage runs on this thread, whose allocator arena already holds the state it grows (the
        // mappings, the tables made before the readers started): on a thread of its own it shared an arena
        // with a reader or not as glibc happened to place it, and the 20,000-account world's peak at
        // `--jobs 2` followed (helper-61: 307–374 MB, the stage's arena 34–126 MB).
        while var batch = stage.take() {
            // Each input is moved out of the batch before it is held: one the batch still held would
            // have its calls and events copied where `hold` frees or moves them out (every event's
            // strings retained again: what moving them out is for).
            batch.reverse()
            while let input = batch.popLast() {
                guard stop?.isRequested != true else { continue }
                let (merged, progress) = (input.summary, input.progress)
                hold(consume input)
                counted = (merged, progress?.done ?? counted.done)
            }
        }
        mergeEnded.wait()
        (summary, done) = counted
    }

    /// A value shared by reference.
    private final class Box<Value> {
        var value: Value
        init(_ value: Value) { self.value = value }
    }

    /// Merged inputs that may wait for the stage (``mergeStaged(from:expected:done:stop:)``), besides the
    /// one it holds (the merge takes the next input only once there is room): each keeps its decoded
    /// calls and events. One: the merge is
    /// a small part of the work (~6% of the samples of the standard corpus at `--jobs 2`, the stage ~30%),
    /// so more waiting changes little but memory: peak RSS of the large customer's 1 GB at `--jobs 2`
    /// 113–119 MB before the stage, 124–126 with one, 121–136 with two, 119–148 with four (four runs each).
    static let stageDepth = 1

    /// Sessions closed at the end of the input handed from the sessionizer's thread to the assessing one
    /// at a time (`--jobs` > 1).
    static let endHandoffBatch = 64

    /// What an event moved out of a decoded batch leaves in its place: no string to release.
    private static let vacantEvent = UsageEvent(
        provider: .aws, action: .launch, time: 0, accountID: "", resourceID: "", eventID: "", eventName: "",
        origin: EventOrigin(path: "", position: .line(0)))

    /// What de-duplicating one input (``deduplicate(_:)``) leaves for ``hold(_:)``: its outcome so far
    /// (the calls kept for the store without their account names), and the records that are not
    /// duplicates with what holding them needs.
    struct MergedInput {
        var outcome: FileOutcome
        var diagnostics: [Diagnostic]
        /// The input's account names (``DecodedBatch/accountNames``).
        var accountNames: KeyTable<String>
        /// The input's calls, and the positions of those to hold (not duplicates, scoring on).
        var calls: [CallObservation]
        var heldCalls: [Int32]
        var identifierNames: KeyTable<String>
        /// The newest event time once the calls were seen (how long their identifiers' names are kept).
        var callsNewest: EpochSeconds
        /// Lifecycle and billing events that are not duplicates, in input order.
        var events: [UsageEvent]
        /// Billing lines that are not duplicates, in input order (after `events`), packed until the
        /// sessionizer takes them.
        var lines: UsageLines
        /// The watermark once the input was merged.
        var watermark: EpochSeconds
        /// The inputs' counts once it was merged, and the progress to report once it is decided.
        var summary: IngestSummary
        var progress: (done: Int, total: Int)? = nil
    }

    /// ``deduplicate(_:)``, the input counted in `done` and its progress (of `expected`) to report once held.
    private func deduplicate(_ result: consuming FileResult, counting done: inout Int, of expected: Int)
        -> MergedInput
    {
        var input = deduplicate(result)
        done += 1
        input.progress = (done, max(expected, done))
        return input
    }

    /// De-duplicates one input's calls and events and counts it: the merge's half (the window, the
    /// merged watermark, the inputs' counts), on the merging thread.
    private func deduplicate(_ result: consuming FileResult) -> MergedInput {
        var outcome = FileOutcome(path: result.path)
        outcome.storedBytes = result.storedBytes
        outcome.records = result.batch.recordsRead
        outcome.rejected = result.batch.recordsRejected
        outcome.failed = result.failed
        outcome.ledgerIdentity = result.ledgerIdentity
        summary.files += 1
        if result.failed { summary.filesFailed += 1 }
        summary.records += result.batch.recordsRead
        summary.recordsRejected += result.batch.recordsRejected
        summary.documentsSkipped += result.batch.documentsSkipped
        summary.storedBytes += result.storedBytes
        summary.decodedBytes += result.decodedBytes
        var newest = mergedWatermark
        let scoring = options.scoring
        // The calls to hold (not duplicates), by position: held together once the window has seen them all.
        var heldCalls: [Int32] = []
        if scoring { heldCalls.reserveCapacity(result.batch.calls.count) }
        let calls = result.batch.calls
        /// How many calls ahead the de-duplication table's cache lines are asked for.
        let ahead = 8
        // The calls found duplicate whose records also made events (rare: a set, not a flag per call).
        let pairs = result.batch.eventCalls
        var duplicateCalls = Set<Int32>()
        for (n, call) in calls.enumerated() {
            if n + ahead < calls.count {
                let later = calls[n + ahead]
                dedup.prefetch(later.eventKey, at: later.time)
            }
            if call.time > newest { newest = call.time }
            guard dedup.insert(call.eventKey, at: call.time) else {
                summary.duplicateEvents += 1
                if !pairs.isEmpty { duplicateCalls.insert(Int32(truncatingIfNeeded: n)) }
                continue
            }
            // Held until the frontier passes it, then applied in event-time order (``EventTimeOrder``).
            if scoring { heldCalls.append(Int32(truncatingIfNeeded: n)) }
            if options.keepCalls != .none {
                let restricted =
                    call.country.isKnown && detector.jurisdictions.isRestricted(call.country, at: call.time)
                if options.keepCalls == .all || call.isSignIn || restricted {
                    // Its account's name is filled in where the names are kept (``hold(_:)``).
                    outcome.calls.append((call, "", restricted))
                }
            }
        }
        let callsNewest = newest
        var nextPair = 0
        // The events are taken out of the batch and each moved where it is held, an empty event left in
        // its place: a copy retained its nine strings, and the batch's end released them again (issue 17:
        // the large customer's lifecycle events).
        var events: [UsageEvent] = []
        swap(&events, &result.batch.events)
        var kept: [UsageEvent] = []
        kept.reserveCapacity(events.count)
        let vacant = Self.vacantEvent
        events.withUnsafeMutableBufferPointer { buffer in
            for n in buffer.indices {
                let event = (buffer.baseAddress! + n).move()
                (buffer.baseAddress! + n).initialize(to: vacant)
                // Billing exports are whole periods in no time order: they do not move the event-time
                // watermark (audit logs do) and are not held for it; their sessions close at the end of the
                // input or when the audit logs' time passes them.
                if event.action != .usage && event.time > newest { newest = event.time }
                // An event made from a call's record is a duplicate when its call was (same record, same
                // time, one key in the window); any other by its own event id.
                if nextPair < pairs.count && pairs[nextPair].event == Int32(truncatingIfNeeded: n) {
                    let call = pairs[nextPair].call
                    nextPair += 1
                    if duplicateCalls.contains(call) { continue }
                } else if event.action == .usage && !event.isFleetUsage {
                    // A named instance's billing line (read back from normalized records): de-duplicated
                    // by its run, as the billing lines below.
                } else if !dedup.insert(StableHash.hash(event.eventID, seed: Self.computeKeySeed), at: event.time) {
                    continue
                }
                summary.computeEvents += 1
                if options.keepCalls != .none { outcome.events.append(event) }
                kept.append(event)
            }
        }
        // Billing lines (after the events, as the decoders make them), left packed. A named instance's line
        // delivered again adds nothing to the run that bills its hour, held or closed (the sessionizer
        // keeps closed runs `billing_redelivery`, far longer than the window's two days): its id is not
        // put in the window. A billing export is read whole, ahead of the audit logs it follows, and the
        // ids of every line of its month stayed in the window until the trail's time passed their days:
        // 4.5 M ids, 65 MB, on the world of 20,000 accounts (issue 17). A fleet's lines (no instance
        // named, several to an hour) are summed as they come: those are de-duplicated by their event id,
        // duplicates, rare, removed in place afterwards.
        var lines = UsageLines()
        swap(&lines, &result.batch.usageLines)
        var duplicateLines: [Int] = []
        for i in lines.indices {
            guard
                !lines.isFleetUsage(at: i)
                    || dedup.insert(lines.eventIDHash(at: i, seed: Self.computeKeySeed), at: lines.time(at: i))
            else {
                duplicateLines.append(i)
                continue
            }
            summary.computeEvents += 1
            if options.keepCalls != .none { outcome.events.append(lines.event(at: i)) }
        }
        if !duplicateLines.isEmpty {
            var next = 0
            lines.keep { i in
                guard next < duplicateLines.count && duplicateLines[next] == i else { return true }
                next += 1
                return false
            }
        }
        if newest > mergedWatermark {
            let newDay = mergedWatermark == .min || newest / 86_400 != mergedWatermark / 86_400
            mergedWatermark = newest
            if Self.memoryLog && newDay {
                let text = "memory merged \(newest / 86_400): \(dedup.memoryReport)\n"
                text.utf8CString.withUnsafeBufferPointer { _ = write(2, $0.baseAddress!, $0.count - 1) }
            }
            if dedup.advance(to: newest) >= largeWindowDrop { onLargeFree?() }
        }
        var names = KeyTable<String>(capacity: 8)
        swap(&names, &result.batch.accountNames)
        var identifierNames = KeyTable<String>(capacity: 8)
        swap(&identifierNames, &result.batch.identifierNames)
        return MergedInput(
            outcome: outcome, diagnostics: result.batch.diagnostics, accountNames: names, calls: calls,
            heldCalls: heldCalls, identifierNames: identifierNames, callsNewest: callsNewest, events: kept,
            lines: lines, watermark: mergedWatermark, summary: summary)
    }

    /// Holds one merged input's records for the event-time frontier, applies and decides what the
    /// frontier passed, and hands the input's outcome on: the decisions' half (with `--jobs` > 1 on the
    /// stage's thread, ``mergeStaged(from:expected:done:stop:)``), which alone reports diagnostics, outcomes and
    /// progress.
    private func hold(_ input: consuming MergedInput) {
        var outcome = input.outcome
        for d in input.diagnostics { onDiagnostic(d) }
        input.accountNames.forEach { key, name in
            if accountNames.insert(key, name), changes != nil { changes!.names.insert(key) }
        }
        for i in outcome.calls.indices {
            outcome.calls[i].accountID = accountNames[outcome.calls[i].call.accountKey] ?? ""
        }
        let path = outcome.path ?? ""
        if options.scoring && !input.calls.isEmpty {
            let number = order.beginInput(path)
            order.add(input.calls, at: input.heldCalls, input: number)
            order.held(input.heldCalls.count, of: number)
            order.learnNames(input.identifierNames, until: input.callsNewest, path: path)
        }
        // Held as they are needed (a few MiB an input of the large customer's): the input's arrays go now,
        // not after its decisions.
        input.calls = []
        input.heldCalls = []
        input.identifierNames = KeyTable<String>(capacity: 8)
        /// Accounts with new billing lines (joined as they arrive, not held).
        var usageAccounts = Set<String>()
        var events: [UsageEvent] = []
        swap(&events, &input.events)
        let vacant = Self.vacantEvent
        events.withUnsafeMutableBufferPointer { buffer in
            for n in buffer.indices {
                let event = (buffer.baseAddress! + n).move()
                (buffer.baseAddress! + n).initialize(to: vacant)
                let eventAccount = StableHash.hash(event.accountID)
                if eventAccounts.insert(eventAccount).inserted, changes != nil {
                    changes!.eventAccounts.insert(eventAccount)
                }
                if event.action == .usage {
                    // A line that adds nothing (delivered again, or late into a run) assesses nothing anew.
                    if sessionizer.observe(event) { usageAccounts.insert(event.accountID) }
                } else {
                    order.add(event)
                }
            }
        }
        // Billing lines, each made an event only as the sessionizer takes it (``UsageLines``).
        var lines = UsageLines()
        swap(&lines, &input.lines)
        for i in lines.indices {
            let event = lines.event(at: i)
            let eventAccount = StableHash.hash(event.accountID)
            if eventAccounts.insert(eventAccount).inserted, changes != nil {
                changes!.eventAccounts.insert(eventAccount)
            }
            if sessionizer.observe(event) { usageAccounts.insert(event.accountID) }
        }
        let large = lines.count >= largeInputLines
        lines = UsageLines()
        if Self.memoryLog, input.watermark != .min, input.watermark / 86_400 != watermark / 86_400 {
            reportMemory(at: input.watermark)
        }
        watermark = input.watermark
        outcome.decisions = release(through: watermark == .min ? .min : watermark - options.allowedLateness)
        order.spillIfOverBudget()
        if options.scoring && !usageAccounts.isEmpty {
            // Billing lines join running sessions as they come (they are not on the audit logs' time
            // axis): the sessions they change are looked at the next tick — or now, while no audit log
            // has been read (billing alone has no ticks).
            if watermark == .min {
                outcome.decisions += alertRunning(accounts: usageAccounts, at: 0)
            } else {
                billedAccounts.formUnion(usageAccounts)
            }
        }
        onOutcome(outcome)
        if let progress = input.progress {
            onProgress?(progress.done, progress.total, withDecisionCounts(input.summary))
        }
        let decoded = input.summary.decodedBytes
        if large || largeDecodedBytes.map({ decoded - decodedAtLastFree >= $0 }) == true {
            decodedAtLastFree = decoded
            onLargeFree?()
        }
    }

    /// Whether `CHIPTRAIL_MEMORY_LOG` asks for the state's sizes at each new day of the watermark (stderr).
    static let memoryLog = ProcessInfo.processInfo.environment["CHIPTRAIL_MEMORY_LOG"] != nil

    /// Writes the sizes of the held state (counts and table capacities) to stderr.
    private func reportMemory(at time: EpochSeconds) {
        var lookbackBytes = 0
        var remembered = 0
        for (_, list) in lookback {
            remembered += list.count
            for r in list { lookbackBytes += r.byteCount + 48 }
        }
        let text =
            "memory day \(time / 86_400): \(sessionizer.memoryReport); lookback \(lookback.count) accounts \(remembered) sessions"
            + " \(lookbackBytes >> 20)M; activity \(activity.count)/\(activity.slots) slots"
            + " (\(activity.byteCount >> 20)M);"
            + " names \(accountNames.count); eventAccounts \(eventAccounts.count); standing \(standing.count);"
            + " alertedOpen \(alertedOpen.count); billedAccounts \(billedAccounts.count); \(order.memoryReport);"
            + " \(identities.memoryReport); volume \(volume.memoryReport);"
            + " \(sharedNorm.report); \(Self.processMemory)\n"
        text.utf8CString.withUnsafeBufferPointer { _ = write(2, $0.baseAddress!, $0.count - 1) }
    }

    /// Writes the process's memory at a phase of the end of the input (`CHIPTRAIL_MEMORY_LOG`).
    private static func logEndPhase(_ phase: String) {
        guard memoryLog else { return }
        let uptime = String(format: "%.2f", ProcessInfo.processInfo.systemUptime)
        let text = "memory \(phase): \(processMemory) at \(uptime) s\n"
        text.utf8CString.withUnsafeBufferPointer { _ = write(2, $0.baseAddress!, $0.count - 1) }
    }

    /// The process's resident size, and the C heap's bytes in use and held (glibc's `malloc_stats`), so
    /// that the counts above can be set against what they cost.
    private static var processMemory: String {
        var rss = 0
        if let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = text.split(separator: " ")
            if fields.count > 1, let pages = Int(fields[1]) { rss = pages * Int(sysconf(Int32(_SC_PAGESIZE))) }
        }
        // glibc's `malloc_stats` (not in the Glibc module's headers) writes each arena's bytes held
        // and in use to stderr, before this line.
        typealias MallocStats = @convention(c) () -> Void
        if let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_stats") {
            unsafeBitCast(symbol, to: MallocStats.self)()
        }
        return "rss \(rss >> 20)M"
    }

    /// Applies every slice the frontier has passed (all of them when `frontier` is nil: the end of the
    /// input), each followed by the decisions of its tick.
    private func release(through frontier: EpochSeconds?) -> [Detector.Decision] {
        var out: [Detector.Decision] = []
        // At the end of the input the readers are done and their cores idle: with more than one, a spilled
        // slice's calls are merged on a thread of their own while this one applies them (the same blocks,
        // in order), and its events merged and given to the sessionizer on another (`apply`).
        let aside = frontier == nil && options.jobs > 1
        while let (end, slice) = order.next(through: frontier, streaming: true) {
            if aside { slice.spilled?.prefetch() }
            let touched = apply(slice, tick: end, eventsAside: aside)
            out += decide(at: end, touched: touched)
        }
        return out
    }

    /// Applies one slice's records in their canonical order (a spilled slice's a block at a time, as its
    /// merge gives them). Returns the accounts whose running sessions may have changed (new lifecycle
    /// events) and the accounts with new calls.
    ///
    /// With `eventsAside`, a spilled slice's events are merged and given to the sessionizer on a thread of
    /// their own while this one applies the calls: the two touch disjoint state (the sessionizer; the
    /// account activity, the identity graph and the held order), each in the same order as one after the
    /// other, and this thread leaves the sessionizer alone until that one is done.
    private func apply(_ slice: EventTimeOrder.Slice, tick: EpochSeconds, eventsAside: Bool = false) -> (
        events: [(provider: CloudProvider, account: String, resource: String)], calls: [UInt64]
    ) {
        var resources: [(provider: CloudProvider, account: String, resource: String)] = []
        func observe(_ events: [UsageEvent]) {
            for event in events where followsLifecycle(of: event) {
                sessionizer.observe(event)
                resources.append((event.provider, event.accountID, event.resourceID))
            }
        }
        var eventsDone: DispatchSemaphore? = nil
        if eventsAside, let spilled = slice.spilled {
            let done = DispatchSemaphore(value: 0)
            eventsDone = done
            let work = UncheckedSendable(value: {
                var block: [UsageEvent] = []
                while spilled.nextEvents(into: &block) { observe(block) }
                done.signal()
            })
            let thread = Thread { work.value() }
            thread.stackSize = 8 << 20
            thread.start()
        }
        var callAccounts: [UInt64] = []
        if options.scoring {
            // The identity graph changes below: partners found before are stale. Set before any call is
            // observed (a run's count may index a value there), also in a graph just restored.
            partnerMemo = nil
            identities.newlySharedHolders = Int(
                max(0, min(Double(identities.maxOwners), detector.config.lookbackIdentityHolders)))
            // Never 0, the activity's initial mark (a slice ending at 0 would otherwise mark nothing).
            let mark = Int(tick / EventTimeOrder.tick) | Int(1) << 62
            // How many accounts make an address an exit (`shared_exit_accounts`, `shared_exit_share`): the
            // population as at the slice's start, whether its calls come in one piece or in spilled blocks.
            let sharedExit = detector.config.sharedExitThreshold(
                population: identities.population, crowded: identities.maxOwners + 1)
            if sharedExit > 0 { exitVerdicts.removeAll() }
            if let spilled = slice.spilled {
                var block: [EventTimeOrder.HeldCall] = []
                while spilled.nextCalls(into: &block) {
                    applyCalls(
                        EventTimeOrder.Slice(calls: block), mark: mark, sharedExit: sharedExit, accounts: &callAccounts)
                    order.released(block)
                }
            } else {
                applyCalls(slice, mark: mark, sharedExit: sharedExit, accounts: &callAccounts)
                order.released(slice.calls)
            }
            // What the typical account shows, for the assessments after the slice.
            if sharedExit > 0 { sharedNorm.settle() }
        }
        if changes != nil { changes!.activity.formUnion(callAccounts) }
        if let eventsDone {
            eventsDone.wait()
        } else if let spilled = slice.spilled {
            var block: [UsageEvent] = []
            while spilled.nextEvents(into: &block) { observe(block) }
        } else {
            observe(slice.events)
        }
        return (resources, callAccounts)
    }

    /// Applies calls in their canonical order to the account activity and the identity graph; the accounts
    /// seen first at this tick (`mark`) join `accounts`.
    /// `sharedExit`: how many accounts must have shown an address for a call through it that no feed lists
    /// to be marked ``AnonymousNetwork/shared`` (0: never).
    private func applyCalls(
        _ slice: EventTimeOrder.Slice, mark: Int, sharedExit: Int, accounts callAccounts: inout [UInt64]
    ) {
        let count = slice.calls.count
        let ahead = 8
        if volume.streamStart == .max, count > 0 { volume.streamStart = slice.call(0).time }
        var lastInput = UInt32.max
        // A call no feed lists, located (not CloudShell's), through an address many accounts showed: through
        // an exit, as the graph counted the accounts at the slice's first call through it. Whether its
        // country is restricted, or the end customer's, and how many such calls the typical account makes,
        // are asked when the account is assessed (``AccountActivity/sharedAsDirect(where:beyond:)``).
        for n in 0..<count {
            let held = slice.call(n)
            if n + ahead < count { activity.prefetch(slice.call(n + ahead).accountKey) }
            // The activity's value lies apart from its slot: fetched once the slot is near. The graph
            // numbers its rows as the activity does its places (both gain an account at its first call,
            // here), so the place found is where the graph's row likely is: its lines are asked for too,
            // and the graph's own account table is not probed (a guess it checks against the row's key).
            if n + ahead / 2 < count, let place = activity.prefetchValue(slice.call(n + ahead / 2).accountKey) {
                identities.prefetch(row: place)
            }
            var call = held.call
            if sharedExit > 0 && call.network.isEmpty && call.country.isKnown && !call.isCloudShell {
                let key = IdentityGraph.addressKey(of: call)
                if key != 0 {
                    // The graph's count (``IdentityGraph/accountsShowing(_:)`` is mutating so that asking
                    // the graph this class holds does not copy it).
                    let slot = exitVerdicts.slot(of: key)
                    let isExit =
                        exitVerdicts.verdict(key, at: slot)
                        ?? exitVerdicts.note(
                            key, at: slot, identities.accountsShowing(key) >= sharedExit)
                    if isExit { call.network = .shared }
                }
            }
            var first = false
            // The account's percentage of calls through shared addresses, before and after (-2: not asked):
            // it moves only with the calls `record` counts as located.
            var percent = (before: -2, after: -2)
            let counts = sharedExit > 0
            let place = activity.update(call.accountKey, default: { AccountActivity() }) {
                if counts { percent.before = SharedExitNorm.percent($0) }
                $0.record(call)
                if counts { percent.after = SharedExitNorm.percent($0) }
                if $0.batch != mark {
                    $0.batch = mark
                    first = true
                }
            }
            if percent.before != percent.after { sharedNorm.move(from: percent.before, to: percent.after) }
            if first { callAccounts.append(call.accountKey) }
            if held.input != lastInput {
                lastInput = held.input
                identities.setInput(order.path(of: held.input), key: held.input)
            }
            identities.observe(call, likelyRow: place)
        }
    }

    /// Whether a lifecycle event joins the sessionizer: an accelerated type (or one the catalogue does not
    /// know the type of at launch: an Azure VM without its size), or a resource already followed.
    private func followsLifecycle(of event: UsageEvent) -> Bool {
        if options.allLifecycleTypes { return true }
        if let type = event.instanceType, detector.catalog.lookup(type) != nil { return true }
        if event.instanceType == nil && event.action == .launch { return true }
        return sessionizer.tracks(provider: event.provider, account: event.accountID, resource: event.resourceID)
    }

    /// The decisions of the tick at `time`: sessions whose end the frontier passed are closed and
    /// assessed, running sessions of the accounts the slice touched are assessed and alerted where the
    /// evidence already crosses the threshold.
    private func decide(
        at time: EpochSeconds,
        touched: (events: [(provider: CloudProvider, account: String, resource: String)], calls: [UInt64])
    ) -> [Detector.Decision] {
        var identityChanged: [UInt64] = []
        if options.scoring {
            identities.settle()
            identityChanged = identities.takeNewlyShared()
            identities.nameNew { raw, kind, input in
                switch kind {
                case .agent: self.order.name(DecodedBatch.nameKey(raw, kind: 0), in: input)
                case .accessKey: self.order.name(DecodedBatch.nameKey(raw, kind: 1), in: input)
                case .principal: self.order.name(DecodedBatch.nameKey(raw, kind: 2), in: input)
                case .address: nil
                }
            }
            order.forgetNames()
        }
        // The graph stands still until the next slice's calls: each account's partners are found once.
        partnerMemo = [:]
        graphSearches.removeAll()
        // Sessions that ended at least the allowed lateness before the newest event time (at the end of
        // the input, before the last one).
        var out = finish(sessionizer.advance(to: min(time + options.allowedLateness, watermark)), at: time)
        guard options.scoring else { return out }
        // Calls alone change a running session's score upwards only when some come from restricted
        // countries (shared identifiers, structuring and time are caught at the next such call, the
        // next event, or the close; so is a declaration, or a placing by calls, that calls from
        // elsewhere no longer bear out, which lifts the reseller's weight again).
        // The running sessions that may have changed: a resource with new lifecycle events (its own
        // session), every resource of an account with billing lines or new calls from restricted
        // countries (its account's evidence). Not every resource of an account at each event: an
        // account with thousands of instances running would rebuild them all at every tick.
        var accounts = billedAccounts
        billedAccounts = []
        let view = detector.jurisdictionView
        // Accounts with live resources (asked by key: most accounts of a trail have none), and accounts
        // with remembered sessions (look-back) and new calls from restricted countries: those sessions are
        // assessed again with the network evidence of now, running or not. An account with no call from
        // a code ever restricted counts none at any time: once that 0 is its count at the last
        // assessment, nothing changed (no country asked about).
        let everRestricted = self.everRestricted
        let norm = sharedNorm.share
        let network = detector.config.lookbackNetwork > 0.5 && !lookback.isEmpty
        var calling: [String] = []
        var callingAgain: [String] = []
        // Of those, the accounts whose sessions may alert on network evidence too (`lookback_network_weight`).
        var networkAgain = Set<String>()
        // Only an account whose count of calls from restricted countries moved can change anything here
        // (but the checkpoint's note, `tail`): the others are passed over before their live resources,
        // look-back and name are asked for (cache misses at every touched account, for ~5% of them).
        let tracking = changes != nil
        let moved = touched.calls.filter { key in
            tracking
                || activity.modify(key) {
                    if $0.restrictedAtAssessment == 0 && !$0.hasCalls(fromAnyOf: everRestricted) { return false }
                    return $0.restrictedCount(view, at: time) != $0.restrictedAtAssessment
                } ?? true
        }
        // Those with live resources, a subsequence of `moved` in its order (one call for the batch).
        let withLive = sessionizer.withLiveResources(keys: moved)
        var next = 0
        for key in moved {
            let live = next < withLive.count && withLive[next] == key
            if live { next += 1 }
            let remembered = network && lookback[key] != nil
            guard live || remembered, let name = accountNames[key] else { continue }
            var changed = false
            var mayAlert = false
            var network = false
            let detector = self.detector
            activity.update(key, default: { AccountActivity() }) {
                if $0.restrictedAtAssessment == 0 && !$0.hasCalls(fromAnyOf: everRestricted) { return }
                let k = $0.restrictedCount(view, at: time)
                if k != $0.restrictedAtAssessment {
                    $0.restrictedAtAssessment = k
                    changed = true
                    network = remembered && detector.networkMayCarryLookBack($0, at: time, sharedNorm: norm)
                    mayAlert = remembered && (network || detector.hidingMayWeigh($0, at: time, sharedNorm: norm))
                }
            }
            if changed {
                if live { accounts.insert(name) }
                // Looked at again only if one of its sessions could then alert: with anonymising-network
                // evidence of its own (none without a call through an anonymising exit), with network
                // evidence of `lookback_network_weight` (none when its share cannot give it), or carried (an
                // alert of the account's within `lookback_days`). Re-assessing every remembered session of
                // every account at each tick it called from a restricted country cost 70% of `ingest`'s time
                // on the 4 GB corpus with SampleLogs' mappings (6.96 s without the look-back, 11.95 s with).
                if remembered {
                    calling.append(name)
                    if mayAlert || mayCarry(key, at: time) { callingAgain.append(name) }
                    if network { networkAgain.insert(name) }
                }
            }
            if changes != nil { changes!.activity.insert(key) }
        }
        // Accounts with remembered sessions and calls this tick whose working week names a restricted country
        // now (`week_weight`): their remembered sessions are assessed again, each alerting only with the week's
        // evidence of its own. A lab's one job often ends before two weeks of its hours are seen. Asked once a
        // new active day (asked at every tick it cost a tenth of `ingest`'s time on the CloudTrail corpus, at
        // every new active hour a sixth); the mark of the last ask is the account's state, kept by `tail`, so a
        // restart asks the same.
        var weekly: [String] = []
        if detector.config.weekWeight > 0 && !lookback.isEmpty {
            let detector = self.detector
            for key in touched.calls {
                guard let provider = lookback[key]?.last?.provider.rawValue, let name = accountNames[key] else {
                    continue
                }
                var asked = false
                let names =
                    activity.modify(key) { a -> Bool in
                        let days = a.activeDayCount
                        guard days != a.weekAskedAt else { return false }
                        a.weekAskedAt = days
                        asked = true
                        return detector.weekNames(a, provider: provider, account: name, at: time, sharedNorm: norm)
                    } == true
                if asked && changes != nil { changes!.activity.insert(key) }
                if names { weekly.append(name) }
            }
        }
        // Accounts that came to share a rare value with another: their remembered sessions (look-back)
        // are assessed with the identity evidence of now (running ones are at their close).
        let sharing = identityChanged.compactMap { accountNames[$0] }
        out += alertRunning(accounts: accounts, resources: touched.events, at: time)
        // A ring's alert (or structuring's, when it named a jurisdiction) changed the evidence of the peers
        // it counted: their running sessions are assessed now, as their remembered ones are below (else a
        // peer's instance launched before the ring was seen and never stopped alerted only at the end of
        // `ingest`'s input, a moment `tail` never has).
        var peers = Set<String>()
        for decision in out where decision.alert != nil {
            peers.formUnion(decision.assessment.ringPeers)
            peers.formUnion(decision.assessment.structuringPeers)
            peers.formUnion(traillessCohort(of: decision.assessment))
        }
        peers.subtract(accounts)
        if !peers.isEmpty { out += alertRunning(accounts: peers, at: time) }
        out += lookBack(
            after: out, at: time, sharing: sharing, calling: calling, callingAgain: callingAgain,
            networkAgain: networkAgain, weekly: weekly)
        return out
    }

    /// Notes the accounts that alert in `decisions` at `time` (carry): the latest alert, at one tick
    /// the highest score (then the smallest session id), whatever order the decisions came in.
    private func noteStanding(_ decisions: [Detector.Decision], at time: EpochSeconds) {
        guard detector.config.lookbackCarry > 0.5 else { return }
        for decision in decisions where decision.alert != nil {
            let a = decision.assessment
            let key = StableHash.hash(a.session.accountID)
            let new = AccountStanding(time: time, session: a.session.id, score: a.score)
            if let old = standing[key] {
                if old.time > time { continue }
                if old.time == time && (old.score > new.score || old.score == new.score && old.session <= new.session) {
                    continue
                }
            }
            standing[key] = new
            if changes != nil { changes!.standing.insert(key) }
        }
    }

    /// Whether a session of the account may be carried at `time` (``carried(_:at:)``): an alert of its
    /// within `lookback_days`.
    private func mayCarry(_ key: UInt64, at time: EpochSeconds) -> Bool {
        let config = detector.config
        guard config.lookbackCarry > 0.5, config.lookbackDays > 0, let standing = standing[key] else { return false }
        return standing.time >= time - Int64(config.lookbackDays * 86_400)
    }

    /// The decision carrying its account's alert to `assessment` (which does not alert by itself), if
    /// the account alerted within `lookbackDays` before `time` and the session's own evidence names a
    /// restricted jurisdiction; its score stays its own.
    private func carried(_ assessment: Detector.Assessment, at time: EpochSeconds) -> Detector.Decision? {
        let key = StableHash.hash(assessment.session.accountID)
        guard assessment.linked, !assessment.alerts, mayCarry(key, at: time), let standing = standing[key] else {
            return nil
        }
        var a = assessment
        a.alerts = true
        a.evidence.append(
            Evidence(
                kind: .carried,
                detail:
                    "its own evidence scores \(JSONWriter.formatNumber(a.score, decimals: 4)); the account alerted at \(Timestamp.format(standing.time)) (session \(standing.session), score \(JSONWriter.formatNumber(standing.score, decimals: 4))) and this session's evidence still names \(a.jurisdictions.map(\.description).joined(separator: ", "))",
                weight: 0))
        a.families.append("carried")
        decisionCounts.alerts += 1
        return Detector.Decision(a, alert: detector.alert(for: a))
    }

    /// Keeps a closed restricted session that raised no alert for ``lookBack(after:at:)``.
    private func remember(_ session: Session) {
        let config = detector.config
        guard config.lookbackSessions > 0, config.lookbackDays > 0 else { return }
        let key = StableHash.hash(session.accountID)
        let oldest = session.end - Int64(config.lookbackDays * 86_400)
        var kept = (lookback[key] ?? []).filter { $0.end >= oldest && !$0.isSession(session.id) }
        kept.append(RememberedSession(session))
        if kept.count > config.lookbackSessions { kept.removeFirst(kept.count - config.lookbackSessions) }
        lookback[key] = kept
        if changes != nil { changes!.lookback.insert(key) }
    }

    /// The accounts that alerted in `decided`, and the ring peers their alerts counted, have their
    /// remembered sessions (ended within `lookbackDays` of the tick) assessed again with the evidence of
    /// now; those that cross the threshold alert, their evidence saying when and why they were looked at
    /// again. A ring is seen once enough of its accounts are: its first accounts' sessions ended before
    /// it was. Accounts in name order, sessions in the order they ended.
    /// Accounts in `sharing` (they came to share a rare identifier with another account this tick) have
    /// theirs assessed again too, each alerting only with shared-identity evidence of its own; accounts in
    /// `callingAgain` (new calls from restricted countries this tick, and a session that could alert:
    /// calls through anonymising exits, a share that can give network evidence of `lookback_network_weight`,
    /// or an alert to carry) only with anonymising-network evidence of their own (beside calls from
    /// restricted countries: an operator hiding where it is), those in `networkAgain` also with network
    /// evidence of that weight; those in `weekly` (their working week names a restricted country, ``Detector/weekNames(_:provider:account:at:sharedNorm:)``)
    /// only with the week's evidence of their own. Structuring
    /// notes the calls of every account in `calling` (new calls from restricted countries this tick).
    private func lookBack(
        after decided: [Detector.Decision], at time: EpochSeconds, sharing: [String] = [], calling: [String] = [],
        callingAgain: [String] = [], networkAgain: Set<String> = [], weekly: [String] = []
    ) -> [Detector.Decision] {
        guard !lookback.isEmpty else { return [] }
        // Why each account is looked at again, and the evidence a session then needs of its own (a ring's
        // peer alerts only on the ring's evidence, an account with new shared identifiers only on shared
        // identity: the note says what had it looked at).
        var trigger: [String: (why: String, only: [EvidenceKind]?)] = [:]
        for decision in decided where decision.alert != nil {
            let assessment = decision.assessment
            let account = assessment.session.accountID
            if trigger[account] == nil {
                trigger[account] = ("session \(assessment.session.id) of the account alerted", nil)
            }
        }
        // The peers an alert's evidence counted: every alert's ring peers, then every alert's structuring peers.
        func notePeers(_ peers: KeyPath<Detector.Assessment, [String]>, counted how: String, only kind: EvidenceKind) {
            for decision in decided where decision.alert != nil {
                let assessment = decision.assessment
                for peer in assessment[keyPath: peers] where trigger[peer] == nil {
                    trigger[peer] = (
                        "session \(assessment.session.id) of account \(assessment.session.accountID), which counted this one \(how), alerted",
                        [kind]
                    )
                }
            }
        }
        notePeers(\.ringPeers, counted: "in its ring", only: .ring)
        notePeers(
            \.structuringPeers, counted: "among its reseller's accounts calling from restricted countries",
            only: .structuring)
        // Accounts without an audit trail under a ring member's reseller: the ring's alert is what they are
        // weighed by.
        for decision in decided where decision.alert != nil {
            let assessment = decision.assessment
            for account in traillessCohort(of: assessment)
            where trigger[account] == nil && lookback[StableHash.hash(account)] != nil {
                trigger[account] = (
                    "session \(assessment.session.id) of account \(assessment.session.accountID), a ring's member under its reseller, alerted",
                    [.ring]
                )
            }
        }
        for account in sharing where trigger[account] == nil {
            trigger[account] = ("it came to share a rare identifier with another account", [.sharedIdentity])
        }
        for account in calling {
            // What structuring notes of its calls, as of now (for its reseller's other accounts too).
            if let kept = lookback[StableHash.hash(account)]?.last,
                let mapping = detector.mappings.mapping(
                    provider: kept.provider.rawValue, account: account, at: kept.start),
                mapping.endCustomerCountry == nil, let reseller = mapping.resellerID,
                resellerUse.hours(reseller: reseller, account: account) != nil
            {
                noteCalls(of: account, reseller: reseller, at: time)
            }
        }
        for account in callingAgain where trigger[account] == nil {
            let again: [EvidenceKind] =
                networkAgain.contains(account) ? [.anonymousNetwork, .network] : [.anonymousNetwork]
            trigger[account] = ("it made new calls from restricted countries", again)
        }
        // Beside another trigger that asks evidence of its own, the week's is taken too.
        let week = "its working week came to name a restricted country"
        for account in weekly {
            if let (why, only) = trigger[account] {
                if let only { trigger[account] = (why + "; " + week, only + [.time]) }
            } else {
                trigger[account] = (week, [.time])
            }
        }
        // Shared identity must weigh at least `lookback_identity_weight` of the model (times its fitted
        // factor): a faint link names a jurisdiction, and boosters (structuring) would carry the score.
        let config = detector.config
        // So must network evidence `lookback_network_weight`: a share short of it is an office's or a trip's.
        func minimum(_ kind: EvidenceKind) -> Double {
            let floor: Double
            switch kind {
            case .sharedIdentity: floor = config.lookbackIdentityWeight
            case .network: floor = config.lookbackNetworkWeight
            default: return .leastNonzeroMagnitude
            }
            return max(.leastNonzeroMagnitude, floor) * (config.familyFactors[kind.rawValue] ?? 1)
        }
        var out: [Detector.Decision] = []
        // Sessions that did not alert by themselves: carried once every account's alerts at this tick are
        // noted (``carried(_:at:)``), or kept.
        var carry: [(account: String, kept: RememberedSession, assessment: Detector.Assessment, why: String)] = []
        let oldest = time - Int64(detector.config.lookbackDays * 86_400)
        for (account, reason) in trigger.sorted(by: { $0.key < $1.key }) {
            let key = StableHash.hash(account)
            guard let remembered = lookback[key] else { continue }
            for kept in remembered where kept.end >= oldest {
                let session = kept.session
                var assessment = assess(session)
                // Of time, only the working week's evidence (a time zone never names a country by itself).
                guard assessment.alerts,
                    reason.only.map({ kinds in
                        assessment.evidence.indices.contains { i in
                            let e = assessment.evidence[i]
                            return kinds.contains(e.kind) && e.weight >= minimum(e.kind)
                                && (e.kind != .time || assessment.families[i] == "week")
                        }
                    }) ?? true
                else {
                    carry.append((account, kept, assessment, reason.why))
                    continue
                }
                assessment.evidence.append(
                    Evidence(
                        kind: .lookback,
                        detail:
                            "ended \(Timestamp.format(session.end)) without an alert; assessed again at \(Timestamp.format(time)), when \(reason.why)",
                        weight: 0))
                assessment.families.append("lookback")
                decisionCounts.alerts += 1
                out.append(Detector.Decision(assessment, alert: detector.alert(for: assessment)))
            }
            // Those that do not alert are kept again below (in the order they ended), unless carried.
            lookback[key] = nil
            if changes != nil { changes!.lookback.insert(key) }
        }
        noteStanding(out, at: time)
        for (account, kept, assessment, why) in carry {
            let key = StableHash.hash(account)
            if var decision = carried(assessment, at: time) {
                decision.assessment.evidence.insert(
                    Evidence(
                        kind: .lookback,
                        detail:
                            "ended \(Timestamp.format(kept.end)) without an alert; assessed again at \(Timestamp.format(time)), when \(why)",
                        weight: 0), at: decision.assessment.evidence.count - 1)
                decision.assessment.families.insert("lookback", at: decision.assessment.families.count - 1)
                decision.alert = detector.alert(for: decision.assessment)
                out.append(decision)
            } else {
                lookback[key, default: []].append(kept)
                if changes != nil { changes!.lookback.insert(key) }
            }
        }
        return out
    }

    /// Assesses the sessions still running of the accounts this input touched (new lifecycle or billing
    /// events, or new calls) and alerts those whose evidence already crosses the threshold — a known
    /// link at the first file that shows the launch, other evidence as soon as it adds up. Each session
    /// alerts once: its close assesses it again (for the store) but raises nothing.
    private func alertRunning(
        accounts: Set<String>, resources: [(provider: CloudProvider, account: String, resource: String)] = [],
        at time: EpochSeconds
    ) -> [Detector.Decision] {
        guard !accounts.isEmpty || !resources.isEmpty else { return [] }
        let detector = self.detector
        let running = sessionizer.provisional(at: time, accounts: accounts, resources: resources) { type in
            type.map(detector.restrictedType) ?? false
        }
        var out: [Detector.Decision] = []
        var unalerted: [Detector.Assessment] = []
        func alerted(_ session: Session) {
            let resource = AlertedRun.resource(of: session)
            alertedOpen[resource, default: []].append(
                AlertedRun(resource: resource, session: session.id, start: session.start, end: session.end))
            if changes != nil { changes!.alerted.insert(resource) }
        }
        for session in running {
            let resource = AlertedRun.resource(of: session)
            if let runs = alertedOpen[resource], runs.contains(where: { $0.covers(session) }) { continue }
            guard mayAlert(session) else { continue }
            let assessment = assess(session)
            guard assessment.alerts else {
                if assessment.linked { unalerted.append(assessment) }
                continue
            }
            alerted(session)
            decisionCounts.alerts += 1
            out.append(Detector.Decision(assessment, alert: detector.alert(for: assessment)))
        }
        // Carried once every alert of this tick is noted: the same whatever order the sessions came in.
        noteStanding(out, at: time)
        for assessment in unalerted {
            guard let decision = carried(assessment, at: time) else { continue }
            alerted(assessment.session)
            out.append(decision)
        }
        return out
    }

    /// Removes and returns the runs alerted while `session` ran, if any.
    private func takeAlertedRuns(of session: Session) -> [AlertedRun]? {
        let resource = AlertedRun.resource(of: session)
        guard let runs = alertedOpen[resource] else { return nil }
        let taken = runs.filter { $0.covers(session) }
        guard !taken.isEmpty else { return nil }
        let rest = runs.filter { !$0.covers(session) }
        alertedOpen[resource] = rest.isEmpty ? nil : rest
        if changes != nil { changes!.alerted.insert(resource) }
        return taken
    }

    /// Assesses `session` with what the pipeline knows of its account. Shared identifiers can only add a
    /// link, which matters only where an alert is possible: they are looked up for restricted use alone.
    private func assess(_ session: Session) -> Detector.Assessment {
        let key = StableHash.hash(session.accountID)
        let restricted = detector.consumesRestricted(session)
        let partners = restricted ? identityPartners(of: key) : []
        // An account without an audit trail (billing only) has no identity of its own to be run alike by.
        let own = activity[key]
        let cohort = restricted && own == nil ? cohortRing(of: session) : nil
        return detector.assess(
            session, activity: own, partners: partners, aggregate: resellerUse, volume: volume, cohort: cohort,
            sharedNorm: sharedNorm.share)
    }

    /// The ring among the recent cohort of the reseller of `session`'s account, which has no audit trail
    /// (``Detector/cohortRing(of:accounts:hasTrail:restrictedUse:partners:)``).
    private func cohortRing(of session: Session) -> Detector.CohortRing? {
        detector.cohortRing(
            of: session, accounts: { self.detector.mappings.accounts(underReseller: $0) },
            hasTrail: { self.activity[StableHash.hash($0)] != nil }, restrictedUse: restrictedUse(of:under:),
            partners: { self.identityPartners(of: StableHash.hash($0)) })
    }

    /// Whether `account` has used restricted accelerators as far as the pipeline knows: a closed restricted
    /// session under its reseller (the reseller's aggregate), or an alert (its standing).
    private func restrictedUse(of account: String, under reseller: String) -> Bool {
        if standing[StableHash.hash(account)] != nil { return true }
        return resellerUse.hours(reseller: reseller, account: account) != nil
            || resellerUse.hours(reseller: ResellerAggregate.declaredKey(reseller), account: account) != nil
    }

    /// The accounts without an audit trail mapped to the reseller of an account whose alert counted ring
    /// peers: the ring's alert changes their evidence (``cohortRing(of:)``) as it does its peers'.
    private func traillessCohort(of assessment: Detector.Assessment) -> [String] {
        guard detector.config.ringTrailless >= 0.5, !assessment.ringPeers.isEmpty,
            let reseller = assessment.mapping?.resellerID, let onboarded = assessment.mapping?.validFrom
        else { return [] }
        let (provider, time) = (assessment.session.provider.rawValue, assessment.session.start)
        return detector.mappings.accounts(underReseller: reseller).filter { account in
            account != assessment.session.accountID && activity[StableHash.hash(account)] == nil
                && detector.isOfCohort(account, reseller: reseller, onboarded: onboarded, provider: provider, at: time)
        }
    }

    private func finish(_ sessions: [Session], at time: EpochSeconds) -> [Detector.Decision] {
        var out: [Detector.Decision] = []
        // Closed restricted sessions that raised nothing: carried once this tick's alerts are noted, or kept.
        var unalerted: [Int] = []
        for session in sessions {
            decisionCounts.sessions += 1
            guard options.scoring else { continue }
            let alerted = takeAlertedRuns(of: session)
            // Without a store a session that cannot alert needs no assessment: only its hours count.
            if options.keepCalls == .none && alerted == nil && !mayAlert(session) {
                let facts = detector.usage(of: session)
                account(
                    session, acceleratorHours: facts.acceleratorHours, restricted: facts.restricted,
                    mapping: facts.mapping)
                // Kept for look-back as with a store: evidence that comes later may cover it.
                if facts.restricted && !session.open { remember(session) }
                continue
            }
            var assessment = assess(session)
            account(
                session, acceleratorHours: assessment.acceleratorHours, restricted: assessment.restrictedConsumption,
                mapping: assessment.mapping)
            if let alerted {
                // Alerted while it ran; under an earlier id, the store replaces that session's row.
                assessment.supersedes = alerted.map(\.session).filter { $0 != session.id }
                out.append(Detector.Decision(assessment, alert: nil))
            } else if assessment.alerts {
                decisionCounts.alerts += 1
                out.append(Detector.Decision(assessment, alert: detector.alert(for: assessment)))
            } else {
                if assessment.restrictedConsumption { unalerted.append(out.count) }
                out.append(Detector.Decision(assessment, alert: nil))
            }
        }
        noteStanding(out, at: time)
        for i in unalerted {
            if let decision = carried(out[i].assessment, at: time) {
                out[i] = decision
            } else if !out[i].assessment.session.open {
                remember(out[i].assessment.session)
            }
        }
        return out
    }

    /// Adds a closed session to the volume histories and, for restricted use of a reseller's customer, to
    /// the reseller's aggregate (structuring: the undeclared ones' hours, the declared ones apart).
    private func account(_ session: Session, acceleratorHours: Double, restricted: Bool, mapping: MappingRow?) {
        if restricted, let mapping, let reseller = mapping.resellerID {
            var key = reseller
            if mapping.endCustomerCountry == nil {
                resellerUse.add(reseller: reseller, account: session.accountID, acceleratorHours: acceleratorHours)
                noteCalls(of: session.accountID, reseller: reseller, at: session.start)
            } else {
                resellerUse.addDeclared(
                    reseller: reseller, account: session.accountID, acceleratorHours: acceleratorHours)
                key = ResellerAggregate.declaredKey(reseller)
            }
            if changes != nil { changes!.resellerHours.insert(LiveChanges.pair(key, session.accountID)) }
        }
        if acceleratorHours > 0 {
            let group = VolumeBook.group(provider: session.provider.rawValue, reseller: mapping?.resellerID)
            volume.add(account: session.accountID, group: group, acceleratorHours: acceleratorHours)
            if changes != nil {
                changes!.volumeAccounts.insert(session.accountID)
                changes!.volumeGroups.insert(group)
            }
        }
    }

    /// Notes in the reseller's aggregate whether an undeclared account's own calls lean to a restricted
    /// country (structuring reads how many of a reseller's do).
    private func noteCalls(of account: String, reseller: String, at time: EpochSeconds) {
        guard detector.config.structuringCalling >= 0.5 else { return }
        let leans = detector.callsLeanRestricted(
            activity[StableHash.hash(account)], at: time, sharedNorm: sharedNorm.share)
        resellerUse.noteCalls(reseller: reseller, account: account, leanRestricted: leans)
        if changes != nil {
            changes!.resellerHours.insert(LiveChanges.pair(ResellerAggregate.callingKey(reseller), account))
        }
    }

    /// The accounts probably run by the same people as `key` (``IdentityGraph``): twelve partners,
    /// and through each likely one (probability at least a half) eight of its own (two steps).
    private func identityPartners(of key: UInt64) -> [Detector.IdentityPartner] {
        if let known = partnerMemo?[key] { return known }
        if partnerMemo?.isEmpty == true { memoPartners = 0 }
        if memoPartners >= Self.memoPartnerLimit, partnerMemo != nil {
            partnerMemo!.removeAll(keepingCapacity: true)
            memoPartners = 0
        }
        let found = searchIdentityPartners(of: key)
        if partnerMemo != nil {
            partnerMemo![key] = found
            memoPartners += found.count + 1
        }
        return found
    }

    private func searchIdentityPartners(of key: UInt64) -> [Detector.IdentityPartner] {
        partnerSearches += 1
        // The graph's searches are kept only while partners found are (the graph stands still).
        guard partnerMemo != nil else {
            return detector.identityPartners(of: key, in: identities) { self.accountNames[$0] }
        }
        return detector.identityPartners(of: key, in: identities, searched: &graphSearches) { self.accountNames[$0] }
    }

    /// Whether an assessment of `session` could alert (``Detector/mayAlert(_:activity:hasPartners:partners:)``).
    private func mayAlert(_ session: Session) -> Bool {
        let key = StableHash.hash(session.accountID)
        return detector.mayAlert(
            session, activity: activity[key], hasPartners: identities.hasPartners(key),
            partners: { self.identityPartners(of: key) })
    }
}

/// Whether calls through an address count as through an exit, kept for one slice: the identity graph's
/// index asked at every call through an indexed address cost ~8% of `ingest`'s CPU on the standard
/// corpus with SampleLogs' files (its 2,000 accounts call through few addresses). A direct-mapped table of
/// 4,096 addresses, 36 KiB: a slot taken by another address asks the graph again. What it answers is a
/// function of the slice's calls in their order, whatever the batches they are applied in.
struct ExitVerdicts {
    private var keys = [UInt64](repeating: 0, count: 4096)
    private var verdicts = [Bool](repeating: false, count: 4096)
    private var used = false

    mutating func removeAll() {
        guard used else { return }
        for i in keys.indices { keys[i] = 0 }
        used = false
    }

    /// The slot of the address `key` (never 0).
    @inline(__always)
    func slot(of key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 52) }

    /// The verdict on the address `key` held at `slot`, nil when the slot holds another's or none.
    @inline(__always)
    func verdict(_ key: UInt64, at slot: Int) -> Bool? { keys[slot] == key ? verdicts[slot] : nil }

    /// Holds `answer` for `key` at `slot`, and returns it.
    @inline(__always)
    mutating func note(_ key: UInt64, at slot: Int, _ answer: Bool) -> Bool {
        keys[slot] = key
        verdicts[slot] = answer
        used = true
        return answer
    }
}
