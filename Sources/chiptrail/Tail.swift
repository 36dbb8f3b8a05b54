import Alerting
import ArgumentParser
import Detection
import Foundation
import Inputs
import Pipeline
import Store
import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

/// Set by the signal handlers; read by the loop between batches.
nonisolated(unsafe) private var stopSignal: sig_atomic_t = 0
nonisolated(unsafe) private var reloadSignal: sig_atomic_t = 0

struct Tail: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow directories and files: read new files as they land, emit alerts, resume exactly after a restart.",
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

            Signals: SIGHUP reloads --mappings, --resellers, --geoip and --config without losing state; \
            SIGTERM and SIGINT finish the batch in hand, commit and exit 0.

            Examples:
              chiptrail tail --store cases.db --mappings m.csv --resellers r.csv \\
                  --geoip ip.csv /var/log/cloudtrail
              chiptrail tail --alerts ocsf --syslog udp://siem.example:514 \\
                  --exec 'notify-oncall' /data/exports
            """)

    @OptionGroup var reader: ReaderOptions

    @Option(help: ArgumentHelp("The store holding the ledger and checkpoints (default ./chiptrail.db).", valueName: "path"))
    var store: String?

    @Option(name: .customLong("poll-interval"), help: ArgumentHelp("Seconds between looks at files still being written and at the followed paths when inotify signals nothing; with --poll (or once the inotify watch limit is reached), between walks of the whole tree (default 1).", valueName: "s"))
    var pollInterval: Double = 1

    @Flag(name: .customLong("poll"), help: "Walk the whole tree on a timer (no inotify): for file systems that do not signal changes (NFS, FUSE); costs time in proportion to the files in the tree.")
    var pollOnly = false

    @Option(help: ArgumentHelp("Seconds a gzip file may stay incomplete and unchanged before it is reported (default 30).", valueName: "s"))
    var settle: Double = 30

    @Flag(name: .customLong("no-store"), help: ArgumentHelp("Not possible with tail: its ledger and checkpoints live in the store.", visibility: .hidden))
    var noStore = false

    @Flag(name: .customLong("once"), help: "Read what is there, commit, and exit (a backlog run with tail's checkpoints).")
    var once = false

    @Argument(help: ArgumentHelp("Directories (followed recursively) or files.", valueName: "path"))
    var paths: [String] = []

    func validate() throws {
        if paths.isEmpty { throw ValidationError("name at least one directory or file to follow") }
        if noStore {
            throw ValidationError("tail keeps its ledger and checkpoints in the store; --no-store is for ingest only (pass --store PATH)")
        }
        if paths.contains("-") { throw ValidationError("tail follows files and directories; use ingest for stdin") }
        guard InputFormat(rawValue: reader.format) != nil else {
            throw ValidationError("unknown --format '\(reader.format)'")
        }
        try reader.validateHooks()
        if !(pollInterval > 0) { throw ValidationError("--poll-interval takes a number of seconds above 0") }
    }

    func run() throws {
        MemoryTuning.keepFreedMemory()
        // A daemon starts with no signal blocked, whatever its parent left in the mask it inherited.
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        signal(SIGTERM) { _ in stopSignal = 1 }
        signal(SIGINT) { _ in stopSignal = 1 }
        signal(SIGHUP) { _ in reloadSignal = 1 }
        signal(SIGPIPE, SIG_IGN)

        var setup = try PipelineSetup.atStart(reader)
        setup.options.keepCalls = .evidence
        setup.options.jobs = 1
        let store: Store
        do {
            store = try Store(path: self.store ?? "chiptrail.db", command: "tail")
        } catch {
            Diagnostics.printRaw(error.description)
            throw ExitStatus(code: 2)
        }
        var sink = reader.makeAlertSink()
        var batch: [FileOutcome] = []
        let pipeline = IngestPipeline(
            options: setup.options, detector: setup.detector, geo: setup.geo, onDiagnostic: Diagnostics.report,
            onOutcome: { batch.append($0) })
        do {
            // The live state as rows; from a store of an earlier version, its single blob, which the
            // first checkpoint then replaces by rows.
            if try !pipeline.restore(rows: { try store.loadLiveState(row: $0) }), let state = try store.loadCheckpoint() {
                try pipeline.restore(state)
                pipeline.markAllChanged()
            }
            pipeline.startCheckpoints()
            // Alerts a crash left committed but undelivered.
            try deliverOutbox(store, &sink)
        } catch {
            Diagnostics.printRaw("chiptrail: error: \(error)")
            throw ExitStatus(code: 2)
        }

        var offsets: [String: Store.FollowOffset]
        do {
            offsets = try store.followOffsets()
        } catch {
            Diagnostics.printRaw("chiptrail: error: \(error)")
            throw ExitStatus(code: 2)
        }
        // The first wake walks the tree (the backlog); later ones look only at what inotify names.
        let watcher = DirectoryWatcher(paths: paths, inotify: !pollOnly && !once)
        var seen: [String: FileStamp] = [:]
        var outstanding = OutstandingProblems()
        var incomplete: [String: (stamp: FileStamp, since: Double, reported: Bool)] = [:]
        /// When each incomplete file was first deferred: the files after it wait at most --settle
        /// seconds from then, however often it changes (a writer that never finishes holds nothing up
        /// for longer).
        var holdingSince: [String: Double] = [:]
        func holds(_ path: String) -> Bool {
            incomplete[path]?.reported != true && monotonic() - (holdingSince[path] ?? monotonic()) < settle
        }
        var delivered = 0
        var filesRead = 0
        var pacer = CommitPacer()
        let status = !reader.quiet && isatty(STDERR_FILENO) == 1
        if !reader.quiet {
            // One line, also to a log file or journal: the daemon is up and what it follows.
            Diagnostics.printRaw(
                "chiptrail: tail following \(paths.joined(separator: ", ")) into \(self.store ?? "chiptrail.db") (pid \(getpid())); SIGHUP reloads the configuration, SIGTERM stops")
        }
        while stopSignal == 0 {
            if reloadSignal != 0 {
                reloadSignal = 0
                reload(pipeline)
            }
            let wake = watcher.next(waitingUpTo: pollInterval)
            for notice in wake.notices {
                switch notice {
                case .raw(let text): Diagnostics.printRaw(text)
                case .diagnostic(let diagnostic): Diagnostics.report(diagnostic)
                }
            }
            let inputs = wake.candidates
            outstanding.update(watcher.problems)
            var toRead: [IngestPipeline.FollowedInput] = []
            var heads: [String: String] = [:]
            for (position, path) in inputs.enumerated() {
                // Looked at now: only what is left waiting below is looked at again on the next wakes
                // (the rest waits for an event naming it).
                watcher.lookAgain(at: path, false)
                guard let stamp = FileStamp(path: path) else { continue }
                if seen[path] == stamp { continue }
                // An empty file is one being created: read it once it has content.
                if stamp.size == 0 { continue }
                // Plain JSON-lines files are followed: read from where the last read stopped, a line
                // still being written left for later. (gzip files, CSV exports and one-line documents
                // are read whole, once per content.)
                if let head = PlainHead(path: path) {
                    heads[path] = head.hash
                    var from: Int64 = 0
                    var lines: Int? = 0
                    if let known = offsets[path], known.head == head.hash, known.offset <= stamp.size {
                        from = known.offset
                        lines = known.lines
                    }
                    if from == stamp.size {
                        seen[path] = stamp
                        continue
                    }
                    toRead.append(IngestPipeline.FollowedInput(path: path, offset: from, lines: lines, follow: true))
                    continue
                }
                if let pending = incomplete[path], pending.stamp == stamp {
                    // Unchanged and still incomplete: report once after the settle time.
                    if !pending.reported && monotonic() - pending.since >= settle {
                        Diagnostics.report(
                            Diagnostic(
                                path: path, position: .file, severity: .error, category: "gzip",
                                message: "the gzip stream has stayed incomplete for \(Int(settle)) s; it is read when it changes"))
                        incomplete[path]?.reported = true
                    }
                    watcher.lookAgain(at: path, true)
                    // Until then the files after it wait (delivery order; see runIncrementally), looked
                    // at again on the next wakes.
                    if holds(path) {
                        for later in inputs[(position + 1)...] { watcher.lookAgain(at: later, true) }
                        break
                    }
                    continue
                }
                let (_, fingerprint) = InputFingerprint.of(path: path)
                if (try? store.hasRead(path: path, fingerprint: fingerprint)) == true {
                    seen[path] = stamp
                    continue
                }
                toRead.append(IngestPipeline.FollowedInput(path: path))
            }
            var index = 0
            while index < toRead.count && (stopSignal == 0 || index == 0) {
                // A backlog commits in batches paced to its checkpoints' cost; files landing live make
                // small batches by themselves.
                let chunk = Array(toRead[index..<min(toRead.count, index + pacer.files)])
                index += chunk.count
                batch.removeAll()
                let started = monotonic()
                // Files after one still being written wait for it (up to the settle time): read in
                // delivery order, the event-time frontier cannot pass its records before they are read.
                let (deferredList, heldList, followedTo) = pipeline.runIncrementally(
                    inputs: chunk, deferIncomplete: true, holdBehind: { holds($0) })
                let read = monotonic()
                let deferred = Set(deferredList)
                let held = Set(heldList)
                if !held.isEmpty {
                    // The files after the held ones wait too, looked at again on the next wakes.
                    for later in toRead[index...] { watcher.lookAgain(at: later.path, true) }
                    index = toRead.count
                }
                let newOffsets = followedTo.map {
                    Store.FollowOffset(path: $0.key, head: heads[$0.key] ?? "", offset: $0.value.offset, lines: $0.value.lines)
                }
                do {
                    try commit(batch, store: store, pipeline: pipeline, offsets: newOffsets)
                    pacer.observe(files: chunk.count, reading: read - started, committing: monotonic() - read)
                    for o in newOffsets { offsets[o.path] = o }
                    delivered += try deliverOutbox(store, &sink)
                } catch {
                    Diagnostics.printRaw("chiptrail: error: \(error)")
                    throw ExitStatus(code: 2)
                }
                for input in chunk {
                    let path = input.path
                    if held.contains(path) {
                        // Waits behind a file still being written: looked at again on the next wakes.
                        watcher.lookAgain(at: path, true)
                        continue
                    }
                    guard let stamp = FileStamp(path: path) else {
                        watcher.lookAgain(at: path, false)
                        continue
                    }
                    if deferred.contains(path) {
                        if incomplete[path]?.stamp != stamp { incomplete[path] = (stamp, monotonic(), false) }
                        if holdingSince[path] == nil { holdingSince[path] = monotonic() }
                        // Looked at on every wake until complete (and reported after --settle).
                        watcher.lookAgain(at: path, true)
                    } else {
                        incomplete[path] = nil
                        holdingSince[path] = nil
                        seen[path] = stamp
                        filesRead += 1
                        // A followed file whose last line is still being written is looked at again.
                        watcher.lookAgain(at: path, (followedTo[path]?.offset ?? stamp.size) < stamp.size)
                    }
                }
            }
            if status {
                let s = pipeline.currentSummary
                Diagnostics.progressShown = true
                Diagnostics.writeControl(
                    "\r\u{1B}[K[tail] \(filesRead) file(s) read, \(s.records) record(s), \(s.sessions) session(s), \(delivered) alert(s); watching \(paths.count) path(s)",
                    newline: false)
            }
            if once { break }
        }
        if status { Diagnostics.writeControl("\n") }
        if !reader.quiet {
            let s = pipeline.currentSummary
            Diagnostics.printRaw(
                "chiptrail: tail stopped: \(filesRead) file(s) read, \(s.records) record(s), \(s.sessions) session(s) closed, \(delivered) alert(s); state committed to \(self.store ?? "chiptrail.db")")
        }
    }

    /// SIGHUP: the new set replaces the old one only when it is whole — every file readable with usable
    /// rows and no row rejected; otherwise the previous set stays in force and stderr says so.
    private func reload(_ pipeline: IngestPipeline) {
        let refused =
            "chiptrail: error: reload refused; the previous mappings, resellers, GeoIP and config stay in force (fix the problems above and send SIGHUP again)"
        do {
            let fresh = try PipelineSetup(reader)
            fresh.problems.forEach(Diagnostics.report)
            if fresh.hadProblems {
                Diagnostics.printRaw(refused)
                return
            }
            pipeline.reload(detector: fresh.detector, geo: fresh.geo)
            Diagnostics.printRaw("chiptrail: reloaded mappings, resellers, GeoIP and config")
        } catch let error as ConfigurationError {
            error.diagnostics.forEach(Diagnostics.report)
            Diagnostics.printRaw(refused)
        } catch {
            Diagnostics.printRaw("chiptrail: error: \(error)")
            Diagnostics.printRaw(refused)
        }
    }

    /// One transaction: the ledger rows of the batch's files, their events and calls, the sessions that
    /// closed and their alerts (also into the outbox), and the pipeline's state after them.
    private func commit(
        _ outcomes: [FileOutcome], store: Store, pipeline: IngestPipeline, offsets: [Store.FollowOffset]
    ) throws {
        var files: [Store.FileRecord] = []
        var events: [UsageEvent] = []
        var calls: [Store.CallRecord] = []
        var assessments: [(Detector.Assessment, Alert?)] = []
        for o in outcomes {
            if let path = o.path, !o.failed {
                let (size, fingerprint) = InputFingerprint.of(path: path)
                files.append(Store.FileRecord(path: path, size: size, fingerprint: fingerprint, records: o.records, rejected: o.rejected))
            }
            events += o.events
            calls += o.calls.map { Store.CallRecord(call: $0.call, accountID: $0.accountID, restricted: $0.restricted) }
            for (a, alert) in o.assessments {
                if let alert, try store.hasAlert(alert.id) {
                    assessments.append((a, nil))
                } else {
                    assessments.append((a, alert))
                }
            }
        }
        _ = try store.write(
            files: files, events: events, calls: calls, assessments: assessments, checkpoint: try pipeline.checkpointChanges(),
            offsets: offsets)
    }

    /// Delivers the outbox in order, removing each alert once its hooks have run.
    @discardableResult
    private func deliverOutbox(_ store: Store, _ sink: inout AlertFanOut) throws -> Int {
        let pending = try store.outbox()
        for (seq, alert) in pending {
            Diagnostics.clearProgress()
            sink.deliver(alert)
            try store.delivered(upTo: seq)
        }
        return pending.count
    }

    private func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Problems of the followed paths (missing, unreadable, loops, special files), each reported once while
/// it lasts — not at every scan — and a missing path that appears is said to be followed.
struct OutstandingProblems {
    private var current: [String: Diagnostic] = [:]

    mutating func update(_ problems: [Diagnostic]) {
        var next: [String: Diagnostic] = [:]
        for problem in problems {
            let key = problem.description
            if current[key] == nil { Diagnostics.report(problem) }
            next[key] = problem
        }
        for (key, old) in current where next[key] == nil && old.message.hasPrefix("no such file or directory") {
            Diagnostics.report(
                Diagnostic(path: old.path, position: .file, severity: .note, category: "input", message: "now present; following it"))
        }
        current = next
    }
}

/// What `stat` says of a file: enough to skip unchanged files without reading them.
struct FileStamp: Equatable {
    var size: Int64
    var modified: Int64
    var inode: UInt64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        size = Int64(info.st_size)
        modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        inode = UInt64(info.st_ino)
    }
}

/// The first line of a plain JSON-lines file, hashed: a followed file replaced by another is read from
/// its start. nil for anything else (gzip, CSV, a one-line document longer than 4 KiB, unreadable).
struct PlainHead {
    var hash: String

    init?(path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: 4096)
        let n = head.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
        guard n > 0 else { return nil }
        // JSON lines: an object first, and a line end within 4 KiB.
        guard let first = head[0..<n].firstIndex(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
            head[first] == 0x7B, let newline = head[0..<n].firstIndex(of: 0x0A)
        else { return nil }
        // Only the first line: it stays the same while lines are appended.
        let end = newline + 1
        hash = head.withUnsafeBytes { StableHash.hex(StableHash.hash(UnsafeRawBufferPointer(rebasing: $0[0..<end]))) }
    }
}
