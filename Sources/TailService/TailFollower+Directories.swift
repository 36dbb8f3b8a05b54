import Inputs
import Pipeline
import Store
import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

extension TailFollower {
    /// Follows local directories and files: each wake looks at what changed, reads the files to read in
    /// batches, commits each batch and delivers its alerts; until `control` asks to stop (after the batch
    /// in hand is committed and delivered) or, with `once`, until the backlog is read.
    /// - Throws: ``TailError`` when the store fails (nothing further is committed).
    func runDirectories(control: TailControl) throws(TailError) {
        var loop = try DirectoryLoop(follower: self, control: control)
        if !settings.quiet {
            // One line, also to a log file or journal: the daemon is up and what it follows.
            reporter.line(
                "chiptrail: tail following \(settings.paths.joined(separator: ", ")) into \(settings.storeName) (pid \(getpid())); SIGHUP reloads the configuration, SIGTERM stops"
            )
        }
        while !control.stopRequested {
            try loop.wake()
            if settings.once { break }
        }
        if loop.status { reporter.status(nil) }
        try finishDelivery(control: control)
        reportStopped(read: loop.filesRead, inputs: "file", delivered: loop.delivered)
    }
}

/// The directory loop's state between wakes, and its steps: ``wake()`` is one turn of the loop.
private struct DirectoryLoop {
    /// A gzip file found incomplete: its stamp then, when it was first found so, and whether it was
    /// reported.
    struct Incomplete {
        var stamp: FileStamp
        var since: Double
        var reported: Bool
    }

    /// What one batch's read left to commit and to look at again.
    struct BatchRead {
        /// Files still being written (gzip without its trailer): not in the ledger, looked at again.
        var deferred: Set<String>
        /// Files not read because an earlier one is still being written (delivery order).
        var held: Set<String>
        /// Where each followed file's read stopped.
        var followedTo: [String: IngestPipeline.FollowedPosition]
        /// The same positions as the store keeps them, with each file's head.
        var offsets: [Store.FollowOffset]
        /// When the read started and ended (monotonic seconds), for the pacer.
        var started: Double
        var read: Double
    }

    let follower: TailFollower
    let control: TailControl
    /// The first wake walks the tree (the backlog); later ones look only at what inotify names.
    let watcher: DirectoryWatcher
    /// Whether the status line is kept (not quiet, stderr a terminal).
    let status: Bool
    /// Each followed file's committed position (the store's `follow_offsets`), updated after each commit.
    var offsets: [String: Store.FollowOffset]
    /// The stamp of each file as it was last read or found already read: unchanged, it is not looked at
    /// (the ledger answers for a file no longer kept here). Bounded (``SeenFiles``) unless every wake
    /// walks the whole tree.
    var seen = SeenFiles()
    var outstanding: OutstandingProblems
    var incomplete: [String: Incomplete] = [:]
    /// When each incomplete file was first deferred: the files after it wait at most --settle
    /// seconds from then, however often it changes (a writer that never finishes holds nothing up
    /// for longer).
    var holdingSince: [String: Double] = [:]
    var delivered = 0
    var filesRead = 0
    var pacer: CommitPacer
    /// What a wake left to read when its reading stopped behind a file still being written: the walk's
    /// place and the lists' (bounded by a day's paths and the events), not the paths still to come. The
    /// next wake goes on with it, merged with what that wake names, unless it walks the whole tree.
    var unfinished: WakeCandidates?
    /// Fingerprints taken to ask the ledger (``TailFollower/WakeFigures``).
    var ledgerFingerprints = 0
    /// The walks' problems said so far (a day's folder or a file that cannot be read again), each said
    /// once per run: a handful, as many as there are such paths.
    var walkProblemsSaid = Set<String>()

    /// Reads the followed files' offsets and sets up the watcher (no walk yet: the first wake walks).
    /// - Throws: ``TailError`` when the store cannot be read.
    init(follower: TailFollower, control: TailControl) throws(TailError) {
        self.follower = follower
        self.control = control
        do {
            offsets = try follower.store.followOffsets()
        } catch {
            throw TailError(.store, underlying: error)
        }
        let settings = follower.settings
        watcher = DirectoryWatcher(
            paths: settings.paths, inotify: !settings.pollOnly && !settings.once, control: control,
            once: settings.once)
        outstanding = OutstandingProblems(report: follower.reporter.diagnostic)
        status = !settings.quiet && isatty(STDERR_FILENO) == 1
        pacer = settings.pacer ?? CommitPacer()
    }

    /// Whether the files after `path`, one still being written, wait for it: until it is reported, for
    /// at most --settle seconds from when it was first deferred.
    func holds(_ path: String) -> Bool {
        incomplete[path]?.reported != true
            && MonotonicClock.seconds() - (holdingSince[path] ?? MonotonicClock.seconds()) < follower.settings.settle
    }

    /// One turn of the loop: a reload asked for is applied, the watcher waits for what changed, the
    /// outbox rows the command has had are removed, the watcher's notices are said, then the files to
    /// read are read in batches (each committed and delivered), and the status line is updated.
    /// A stop asked for ends the batches after the one in hand (see ``read(_:heads:)``).
    /// - Throws: ``TailError`` when the store fails.
    mutating func wake() throws(TailError) {
        if control.takeReloadRequest() { follower.reloadSetup() }
        let changed = watcher.next(waitingUpTo: follower.settings.pollInterval)
        try follower.removeDelivered()
        for notice in changed.notices {
            switch notice {
            case .raw(let text): follower.reporter.line(text)
            case .diagnostic(let diagnostic): follower.reporter.diagnostic(diagnostic)
            }
        }
        outstanding.update(watcher.problems)
        // A stamp per file only where a later wake walks the whole tree again and would otherwise
        // fingerprint every file (`--poll`, the watch limit reached); else the last files' only.
        seen.keepsAll = watcher.walksEveryWake && !follower.settings.once
        var candidates = changed.candidates
        // What an earlier wake left goes on, merged with what this one names; a walk of the whole tree
        // finds it again instead.
        if var left = unfinished, !changed.walkedWholeTree {
            left.resume(with: candidates)
            candidates = left
        }
        unfinished = nil
        follower.settings.beforeReading?()
        try read(&candidates)
        showStatus()
        if let onWake = follower.settings.onWake {
            onWake(
                TailFollower.WakeFigures(
                    pathsLookedAtAgain: watcher.pendingCount, pathsLeftHeld: unfinished?.pathsHeld ?? 0,
                    leftUnread: unfinished != nil, ledgerFingerprints: ledgerFingerprints))
        }
    }

    /// Where a wake's selection stopped.
    enum SelectionEnd {
        /// `limit` inputs to read: more may follow.
        case more
        /// Every candidate was looked at.
        case finished
        /// The rest waits behind a file still being written (``holds(_:)``).
        case waiting
    }

    /// Looks at the wake's next candidates in delivery order until `limit` are to read, and returns those:
    /// followed files from their committed offset, others whole unless the ledger has them (then they are
    /// marked seen). Empty files, unchanged ones and those still incomplete wait; behind an incomplete
    /// one that ``holds(_:)``, the rest of the wake waits too (left in `candidates`, which the next wakes
    /// go on with). A path comes at most once in what is returned. Nothing is read or committed here.
    /// - Returns: the inputs to read, in order, the head hash of each followed (plain) file, and where the
    ///   selection stopped.
    /// - Throws: ``TailError`` when the store cannot say whether a file was read.
    mutating func select(from candidates: inout WakeCandidates, upTo limit: Int) throws(TailError) -> (
        toRead: [IngestPipeline.FollowedInput], heads: [String: String], end: SelectionEnd
    ) {
        var toRead: [IngestPipeline.FollowedInput] = []
        var heads: [String: String] = [:]
        var chosen = Set<String>()
        defer {
            // Each said once: under `--poll` every wake walks the tree and meets the same file again.
            for problem in candidates.takeProblems() where walkProblemsSaid.insert(problem.description).inserted {
                follower.reporter.diagnostic(problem)
            }
            // Left out by a day's listing, changed after the wake began: not every change raises an event
            // on the file's folder (a hard link made or removed, a write through a mapping), so the next
            // wake looks at them whatever it is told (`--once` leaves none out: its walk is `ingest`'s).
            // So many that looking at each on every wake would hold a path per file: the next wake walks
            // the tree instead, which finds them (the ledger knows those read).
            let later = candidates.takeChangedLater()
            if watcher.pendingCount + later.count > follower.settings.lookAgainLimit {
                watcher.walkTreeAtNextWake()
            } else {
                for path in later { watcher.lookAgain(at: path, true) }
            }
        }
        while toRead.count < limit {
            guard let path = candidates.next() else { return (toRead, heads, .finished) }
            // Looked at now: only what is left waiting below is looked at again on the next wakes
            // (the rest waits for an event naming it).
            watcher.lookAgain(at: path, false)
            // Never twice in one batch (the candidates give a path once; this holds whatever they do).
            guard !chosen.contains(path) else { continue }
            guard let stamp = FileStamp(path: path) else { continue }
            if seen[path] == stamp { continue }
            // An empty file is one being created: read it once it has content.
            if stamp.size == 0 { continue }
            // Plain JSON-lines files are followed: read from where the last read stopped, a line
            // still being written left for later. (gzip files, CSV exports and one-line documents
            // are read whole, once per content.)
            if let head = PlainHead(path: path) {
                heads[path] = head.hash
                if let input = followed(path, stamp: stamp, head: head.hash) {
                    toRead.append(input)
                    chosen.insert(path)
                }
                continue
            }
            if let pending = incomplete[path], pending.stamp == stamp {
                // The files after it wait (delivery order; see runIncrementally): the rest of the
                // candidates is kept for the next wakes, not listed in the paths looked at on each.
                if waitsStillIncomplete(path, pending) { return (toRead, heads, .waiting) }
                continue
            }
            if try alreadyRead(path, stamp) {
                seen[path] = stamp
                continue
            }
            toRead.append(IngestPipeline.FollowedInput(path: path))
            chosen.insert(path)
        }
        return (toRead, heads, .more)
    }

    /// Whether the ledger has read `path` as it is now: by its stamp, kept in the ledger row when the file
    /// was read, without opening it; by its fingerprint only when the ledger has the path with another
    /// stamp, or none (a row of an earlier version). A backlog's files on a first start, and files read
    /// before and unchanged, cost a look-up each, not a read. A file found read by its fingerprint gets
    /// its stamp written into its row (a store of schema 12 fills its rows' stamps so, once per file).
    /// - Throws: ``TailError`` when the store fails: the file is not taken for one unread (and read again
    ///   without a word).
    mutating func alreadyRead(_ path: String, _ stamp: FileStamp) throws(TailError) -> Bool {
        do {
            let match = try follower.store.ledgerMatch(
                path: path, size: stamp.size, modified: stamp.modified, inode: Int64(bitPattern: stamp.inode),
                changed: stamp.changed)
            switch match {
            case .sameStamp: return true
            case .unread: return false
            case .otherStamp:
                ledgerFingerprints += 1
                // The stamp kept is the one the fingerprint was taken with (one fstat).
                let taken = InputFingerprint.stamped(path: path)
                guard try follower.store.hasRead(path: path, fingerprint: taken.fingerprint) else { return false }
                if let modified = taken.modified, let inode = taken.inode, let changed = taken.changed {
                    try follower.store.noteStamp(
                        path: path, fingerprint: taken.fingerprint, modified: modified, inode: inode, changed: changed)
                }
                return true
            }
        } catch {
            throw TailError(.store, underlying: error)
        }
    }

    /// A followed file to read from its committed offset (from the start when its head changed or it
    /// shrank), or nil when it has nothing past that offset (then it is marked seen).
    mutating func followed(_ path: String, stamp: FileStamp, head: String) -> IngestPipeline.FollowedInput? {
        var from: Int64 = 0
        var lines: Int? = 0
        if let known = offsets[path], known.head == head, known.offset <= stamp.size {
            from = known.offset
            lines = known.lines
        }
        if from == stamp.size {
            seen[path] = stamp
            return nil
        }
        return IngestPipeline.FollowedInput(path: path, offset: from, lines: lines, follow: true)
    }

    /// A file unchanged since it was found incomplete: reported once after the settle time, and looked
    /// at again on the next wakes.
    /// - Returns: whether the files after it wait for it (delivery order; see `runIncrementally`).
    mutating func waitsStillIncomplete(_ path: String, _ pending: Incomplete) -> Bool {
        let settle = follower.settings.settle
        // Unchanged and still incomplete: report once after the settle time.
        if !pending.reported && MonotonicClock.seconds() - pending.since >= settle {
            follower.reporter.diagnostic(
                Diagnostic(
                    path: path, position: .file, severity: .error, category: "gzip",
                    message:
                        "the gzip stream has stayed incomplete for \(Int(settle)) s; it is read when it changes"
                ))
            incomplete[path]?.reported = true
        }
        watcher.lookAgain(at: path, true)
        // Until then the files after it wait (delivery order; see runIncrementally).
        return holds(path)
    }

    /// Reads the wake's files to read (``select(from:upTo:)``) in batches, each selected, read, committed,
    /// delivered and then noted, in order: what is held is a batch's inputs and the candidates' walk, not
    /// the wake's files. A backlog's batches are paced to their checkpoints' cost (files landing live
    /// make small batches by themselves); a reload asked for meanwhile applies from the next batch on; a
    /// stop asked for ends the reading after the batch in hand (the first batch is always read). Files
    /// held behind one still being written end the reading too: the batch's are looked at again on the
    /// next wakes, the candidates after them are kept (``unfinished``) for the next wakes to go on with. A
    /// kill at any point leaves the batches committed so far; the rest is read again at the next start.
    /// - Throws: ``TailError`` when the store fails.
    mutating func read(_ candidates: inout WakeCandidates) throws(TailError) {
        var first = true
        while first || !control.stopRequested {
            // A reload asked for during a backlog applies from the next batch on.
            if !first && control.takeReloadRequest() { follower.reloadSetup() }
            // A backlog commits in batches paced to its checkpoints' cost; files landing live make
            // small batches by themselves.
            let (chunk, heads, end) = try select(from: &candidates, upTo: pacer.files)
            // The rest waits behind a file still being written: the next wakes go on from here.
            var waits = end == .waiting
            if chunk.isEmpty {
                if waits && !candidates.isFinished { unfinished = candidates }
                return
            }
            first = false
            let batch = readBatch(chunk, heads: heads)
            // The batch's files after one still being written (held, looked at again on the next wakes,
            // see note) and the candidates after them wait too.
            if !batch.held.isEmpty { waits = true }
            try commit(batch, files: chunk.count)
            note(chunk, batch)
            if waits {
                if !candidates.isFinished { unfinished = candidates }
                return
            }
            if end == .finished { return }
        }
    }

    /// Opens a batch and reads `chunk` into it: each input's rows go to the store's writer as it is read
    /// (``TailFollower/collect(_:)``); nothing is committed yet, so a kill here loses the batch and the
    /// next start reads it again.
    mutating func readBatch(_ chunk: [IngestPipeline.FollowedInput], heads: [String: String]) -> BatchRead {
        follower.beginBatch()
        let started = MonotonicClock.seconds()
        // Files after one still being written wait for it (up to the settle time): read in
        // delivery order, the event-time frontier cannot pass its records before they are read.
        let (deferredList, heldList, followedTo) = follower.pipeline.runIncrementally(
            inputs: chunk, deferIncomplete: true, holdBehind: { holds($0) })
        let read = MonotonicClock.seconds()
        let offsets = followedTo.map {
            Store.FollowOffset(path: $0.key, head: heads[$0.key] ?? "", offset: $0.value.offset, lines: $0.value.lines)
        }
        return BatchRead(
            deferred: Set(deferredList), held: Set(heldList), followedTo: followedTo, offsets: offsets,
            started: started, read: read)
    }

    /// Commits the batch in one transaction (ledger rows, events, sessions, alerts into the outbox, the
    /// live state's changes, the followed files' offsets; ``TailFollower/commit(offsets:)``), paces the
    /// next batch on its cost, keeps the new offsets, then delivers the outbox. A kill before the
    /// commit ends loses the batch (read again at the next start); a kill after it leaves its alerts in
    /// the outbox, delivered at the next start.
    /// - Throws: ``TailError`` when the store fails.
    mutating func commit(_ batch: BatchRead, files: Int) throws(TailError) {
        do {
            try follower.commit(offsets: batch.offsets)
            pacer.observe(
                files: files, reading: batch.read - batch.started, committing: MonotonicClock.seconds() - batch.read)
            for o in batch.offsets { offsets[o.path] = o }
            delivered += try follower.deliverOutbox(control: control)
        } catch {
            throw TailError(.store, underlying: error)
        }
    }

    /// After the commit, what each file of the batch waits for: a held file, and one still being
    /// written (from when it was first found so), are looked at again on the next wakes; a read one is
    /// marked seen and counted, and looked at again only when it is a followed file whose last line is
    /// still being written. Bookkeeping only: nothing is read or written.
    mutating func note(_ chunk: [IngestPipeline.FollowedInput], _ batch: BatchRead) {
        for input in chunk {
            let path = input.path
            if batch.held.contains(path) {
                // Waits behind a file still being written: looked at again on the next wakes.
                watcher.lookAgain(at: path, true)
                continue
            }
            guard let stamp = FileStamp(path: path) else {
                watcher.lookAgain(at: path, false)
                continue
            }
            if batch.deferred.contains(path) {
                if incomplete[path]?.stamp != stamp {
                    incomplete[path] = Incomplete(stamp: stamp, since: MonotonicClock.seconds(), reported: false)
                }
                if holdingSince[path] == nil { holdingSince[path] = MonotonicClock.seconds() }
                // Looked at on every wake until complete (and reported after --settle).
                watcher.lookAgain(at: path, true)
            } else {
                incomplete[path] = nil
                holdingSince[path] = nil
                seen[path] = stamp
                filesRead += 1
                // A followed file whose last line is still being written is looked at again.
                watcher.lookAgain(at: path, (batch.followedTo[path]?.offset ?? stamp.size) < stamp.size)
            }
        }
    }

    /// The status line on a terminal: files read, records, sessions, alerts delivered, paths watched.
    func showStatus() {
        guard status else { return }
        let s = follower.pipeline.currentSummary
        follower.reporter.status(
            "\r\u{1B}[K[tail] \(filesRead) file(s) read, \(s.records) record(s), \(s.sessions) session(s), \(delivered) alert(s); watching \(follower.settings.paths.count) path(s)"
        )
    }
}
