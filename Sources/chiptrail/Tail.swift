import LogFormats
import ArgumentParser
import Foundation
import Inputs
import Logging
import ObjectStore
import Pipeline
import ServiceLifecycle
import Store
import Synchronization
import TailService
import UnixSignals
import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

struct Tail: ParsableCommand, Sendable {
    static let configuration = CommandConfiguration(
        abstract:
            "Follow directories and files: read new files as they land, emit alerts, resume exactly after a restart.",
        discussion: """
            Every file is read once. What was read is a ledger in the store keyed by path and content \
            fingerprint (size, first and last 64 KiB), not "the last name seen": a late file whose name \
            sorts before others is still read, and a file rewritten in place is read again. A gzip file \
            still being written (no trailer yet) is retried when it changes, and reported only if it stays \
            incomplete for --settle seconds.

            Discovery: the tree is walked once at start; after that inotify says which files and \
            directories changed and only those are looked at (a new directory is watched and walked once). \
            If the event queue overflows the tree is walked again; if the inotify watch limit is reached \
            (fs.inotify.max_user_watches) the tree is walked every --poll-interval; both are said once on \
            stderr. --poll walks the tree on a timer, for file systems without inotify (NFS, FUSE).

            Exact resume: each batch of files commits in one transaction with its events, sessions, alerts \
            and the pipeline's live state (open sessions, de-duplication window, account activity). Alerts \
            are delivered after the commit from an outbox, so after kill -9 at any moment a restart gives \
            the alerts and store contents of an uninterrupted run.

            S3 (s3://bucket/prefix, with --sqs QUEUE_URL): the prefix is listed at start and what the ledger \
            has not read is read; then the queue is long-polled for S3 event notifications (direct, through \
            SNS, or CloudTrail's own SNS notification) and each object named is read unless the ledger has \
            it with the same ETag (a rewritten object is read again). A message's visibility is extended \
            while its objects are read, and it is deleted only after the batch holding them is committed. \
            Every --relist-interval the recent days are listed again (keys laid out .../YYYY/MM/DD/ as \
            CloudTrail writes them: today's and yesterday's folders of every account and region seen, and \
            the whole prefix every twelfth time; other layouts: the whole prefix), to catch notifications \
            that never came; without --sqs, \
            re-listing alone follows the prefix. Ledger growth: for dated layouts, ledger rows of s3:// \
            objects dated before the day before yesterday are pruned, and a mark in the store says those \
            days were read; for other layouts (CUR 2.0, FOCUS: BILLING_PERIOD=.../), re-listings read only \
            objects last modified within a day of the listing (and after the store's mark), and ledger \
            rows of objects modified before that are pruned (only s3:// rows under the followed prefix; \
            local files' rows are never pruned).

            Hooks: stdout and --syslog get each alert after its commit; the --exec command runs on a \
            thread of its own, alerts in outbox order (up to 1,024 wait for it), so a slow command does \
            not stall reading. An alert leaves the outbox once every hook has had it (the command ran, or \
            failed after its last try): after kill -9 a restart delivers the rest again. The command runs \
            in a process group of its own (a Ctrl-C does not reach it; a timeout kills its whole group).

            Signals: SIGHUP reloads --mappings, --resellers, --geoip, --ip-intel and --config without losing state; \
            SIGTERM and SIGINT finish the batch in hand, commit, wait for --exec to take the alerts waiting \
            for it for at most one alert's worst case (--exec-timeout x 3 tries + 1.5 s of back-off: 31.5 s \
            by default; never more than 60 s), and exit 0. What the command has not had by then stays in \
            the outbox (stderr says how many): the next start prints it again and hands it to --exec.

            Examples:
              chiptrail tail --store cases.db --mappings m.csv --resellers r.csv \\
                  --geoip ip.csv /var/log/cloudtrail
              chiptrail tail --alerts ocsf --syslog udp://siem.example:514 \\
                  --exec 'notify-oncall' /data/exports
              chiptrail tail --store cases.db --mappings m.csv s3://trail-bucket/AWSLogs/ \\
                  --sqs https://sqs.us-east-1.amazonaws.com/123456789012/trail-notifications
            """)

    @OptionGroup var reader: ReaderOptions

    @Option(
        help: ArgumentHelp("The store holding the ledger and checkpoints (default ./chiptrail.db).", valueName: "path"))
    var store: String?

    @Option(
        name: .customLong("poll-interval"),
        help: ArgumentHelp(
            "Seconds between looks at files still being written and at the followed paths when inotify signals nothing; with --poll (or once the inotify watch limit is reached), between walks of the whole tree (default 1).",
            valueName: "s"))
    var pollInterval: Double = 1

    @Flag(
        name: .customLong("poll"),
        help:
            "Walk the whole tree on a timer (no inotify): for file systems that do not signal changes (NFS, FUSE); costs time in proportion to the files in the tree."
    )
    var pollOnly = false

    @Option(
        help: ArgumentHelp(
            "Seconds a gzip file may stay incomplete and unchanged before it is reported (default 30).", valueName: "s")
    )
    var settle: Double = 30

    @Flag(
        name: .customLong("no-store"),
        help: ArgumentHelp("Not possible with tail: its ledger and checkpoints live in the store.", visibility: .hidden)
    )
    var noStore = false

    @Flag(
        name: .customLong("once"), help: "Read what is there, commit, and exit (a backlog run with tail's checkpoints)."
    )
    var once = false

    @Option(
        name: .customLong("sqs"),
        help: ArgumentHelp(
            "With s3:// locations: the SQS queue receiving their S3 event notifications (direct, through SNS, or CloudTrail's SNS notifications).",
            valueName: "queue-url"))
    var sqs: String?

    @Option(
        name: .customLong("relist-interval"),
        help: ArgumentHelp(
            "With s3:// locations: seconds between listings of the recent days (or the whole prefix), for notifications that never came (default 300).",
            valueName: "s"))
    var relistInterval: Double = 300

    @Option(
        name: .customLong("visibility-timeout"),
        help: ArgumentHelp(
            "With --sqs: seconds a received message stays hidden from other receivers; extended while its objects are read (default 120).",
            valueName: "s"))
    var visibilityTimeout: Int = 120

    @Argument(
        help: ArgumentHelp(
            "Directories (followed recursively) or files; or s3://bucket/prefix locations.", valueName: "path"))
    var paths: [String] = []

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one directory or file to follow") }
        if noStore {
            throw ValidationError(
                "tail keeps its ledger and checkpoints in the store; --no-store is for ingest only (pass --store PATH)")
        }
        if paths.contains("-") { throw ValidationError("tail follows files and directories; use ingest for stdin") }
        guard InputFormat(rawValue: reader.format) != nil else {
            throw ValidationError("unknown --format '\(reader.format)'")
        }
        try reader.validateHooks()
        if !(pollInterval > 0) { throw ValidationError("--poll-interval takes a number of seconds above 0") }
        let objects = paths.filter(S3Location.isLocation)
        if !objects.isEmpty && objects.count != paths.count {
            throw ValidationError(
                "tail follows either s3:// locations or local paths; run one process for each (each with its own --store)"
            )
        }
        for path in objects where S3Location.parse(path) == nil {
            throw ValidationError("'\(path)' is not an S3 location; write s3://bucket/prefix (a valid bucket name)")
        }
        try ObjectInputWiring.validateLocations(objects)
        if sqs != nil && objects.isEmpty {
            throw ValidationError("--sqs follows s3://bucket/prefix locations; name at least one")
        }
        if let sqs, SQSQueue.parse(sqs) == nil {
            throw ValidationError(
                "--sqs takes a queue URL such as https://sqs.us-east-1.amazonaws.com/123456789012/name, found '\(sqs)'")
        }
        if !(relistInterval > 0) { throw ValidationError("--relist-interval takes a number of seconds above 0") }
        if !(1...43_200).contains(visibilityTimeout) {
            throw ValidationError("--visibility-timeout takes 1 to 43200 seconds")
        }
    }

    func run() throws {
        MemoryTuning.keepFreedMemory()
        // A daemon starts with no signal blocked, whatever its parent left in the mask it inherited.
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        // A hook or syslog peer that goes away is an error to report, not the end of the daemon.
        signal(SIGPIPE, SIG_IGN)
        let finished = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        let command = self
        Task {
            let result: Result<Void, any Error>
            do {
                try await command.serve()
                result = .success(())
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            finished.signal()
        }
        finished.wait()
        do {
            try outcome.withLock { $0 }?.get()
        } catch let error as TailError {
            Diagnostics.printRaw("chiptrail: error: \(error)")
            throw ExitStatus(code: 2)
        }
    }

    /// SIGHUP is trapped first (before the store exists: a reload may be asked for from then on), then
    /// the service runs in a group that shuts it down gracefully on SIGTERM and SIGINT.
    private func serve() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let command = self
        let service = TailService(reloadSignals: hangups) { _ in try command.makeFollower() }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "chiptrail.tail", factory: { _ in SwiftLogNoOpLogHandler() })))
        try await group.run()
    }

    /// The configuration, the store and the sinks, on the loop's thread.
    private func makeFollower() throws -> TailFollower {
        var setup = try PipelineSetup.atStart(reader)
        setup.options.keepCalls = .evidence
        setup.options.jobs = 1
        let store: Store
        do {
            store = try Store(path: self.store ?? Store.defaultPath, command: "tail", rendering: .sinks)
        } catch {
            Diagnostics.printRaw(error.description)
            throw ExitStatus(code: 2)
        }
        let objects = try objectFollowing(&setup)
        var settings = TailFollower.Settings(
            paths: paths, storeName: self.store ?? Store.defaultPath, pollInterval: pollInterval, pollOnly: pollOnly,
            settle: settle, once: once, quiet: reader.quiet, objects: objects)
        // As ingest: free pages handed back as the input goes (a backlog is ingest's work).
        settings.onLargeFree = MemoryTuning.returnFreePages
        let reporter = TailFollower.Reporter(
            line: { Diagnostics.printRaw($0) }, diagnostic: Diagnostics.report,
            status: { text in
                if let text {
                    Diagnostics.progressShown = true
                    Diagnostics.writeControl(text, newline: false)
                } else {
                    Diagnostics.writeControl("\n")
                }
            },
            clearStatus: Diagnostics.clearProgress)
        return try TailFollower(
            settings: settings, store: store, sink: reader.makeLineSinks(), hook: reader.makeExecSink(),
            setup: setup, reporter: reporter, loadSetup: { [reader] in try PipelineSetup(reader.settings()) })
    }

    /// For s3:// locations: the S3 client, the readers' source (the pipeline's opener) and the queue,
    /// checked once (GetQueueAttributes) so that a wrong URL or a missing permission stops the start
    /// (exit 2) instead of failing every poll.
    private func objectFollowing(_ setup: inout PipelineSetup) throws -> ObjectFollowing? {
        let locations = paths.compactMap(S3Location.parse)
        guard !locations.isEmpty else { return nil }
        let client = try ObjectInputWiring.makeClient(reader)
        let source = ObjectReaderSource(client: client)
        setup.options.opener = { name, limits throws(InputError) in try source.open(name, limits: limits) }
        var queue: SQSClient? = nil
        if let sqs {
            do {
                let client = try SQSClient(
                    queueURL: sqs, credentials: client.credentials, endpointURL: reader.endpointURL,
                    retry: ObjectInputWiring.retry)
                _ = try client.attributes()
                queue = client
            } catch {
                Diagnostics.printRaw(error.description)
                throw ExitStatus(code: 2)
            }
        }
        return ObjectFollowing(
            locations: locations, client: client, source: source, queue: queue, relistInterval: relistInterval,
            visibilityTimeout: visibilityTimeout, pageSize: ObjectInputWiring.pageSize)
    }
}
