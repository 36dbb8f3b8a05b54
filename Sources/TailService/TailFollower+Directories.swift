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
    /// The stamp of each file as it was last read or found already read: unchanged, it is not looked at.
    var seen: [String: FileStamp] = [:]
    var outstanding: OutstandingProblems
    var incomplete: [String: Incomplete] = [:]
    /// When each incomplete file was first deferred: the files after it wait at most --settle
    /// seconds from then, however often it changes (a writer that never finishes holds nothing up
    /// for longer).
    var holdingSince: [String: Double] = [:]
    var delivered = 0
    var filesRead = 0
    var pacer = CommitPacer()

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
            paths: settings.paths, inotify: !settings.pollOnly && !settings.once, control: control)
        outstanding = OutstandingProblems(report: follower.reporter.diagnostic)
        status = !settings.quiet && isatty(STDERR_FILENO) == 1
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
        let (toRead, heads) = select(changed.candidates)
        try read(toRead, heads: heads)
        showStatus()
    }

    /// Looks at the wake's candidates in delivery order and returns those to read: followed files from
    /// their committed offset, others whole unless the ledger has them (then they are marked seen).
    /// Empty files, unchanged ones and those still incomplete wait; behind an incomplete one that
    /// ``holds(_:)``, the rest of the wake waits too. Nothing is read or committed here.
    /// - Returns: the inputs to read, in order, and the head hash of each followed (plain) file.
    mutating func select(_ inputs: [String]) -> (toRead: [IngestPipeline.FollowedInput], heads: [String: String]) {
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
                if let input = followed(path, stamp: stamp, head: head.hash) { toRead.append(input) }
                continue
            }
            if let pending = incomplete[path], pending.stamp == stamp {
                if waitsStillIncomplete(path, pending, before: inputs[(position + 1)...]) { break }
                continue
            }
            let (_, fingerprint) = InputFingerprint.of(path: path)
            if (try? follower.store.hasRead(path: path, fingerprint: fingerprint)) == true {
                seen[path] = stamp
                continue
            }
            toRead.append(IngestPipeline.FollowedInput(path: path))
        }
        return (toRead, heads)
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
    /// - Returns: whether the files after it (`later`, each then looked at again on the next wakes)
    ///   wait for it (delivery order; see `runIncrementally`).
    mutating func waitsStillIncomplete(_ path: String, _ pending: Incomplete, before later: ArraySlice<String>) -> Bool
    {
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
        // Until then the files after it wait (delivery order; see runIncrementally), looked
        // at again on the next wakes.
        guard holds(path) else { return false }
        for next in later { watcher.lookAgain(at: next, true) }
        return true
    }

    /// Reads `toRead` in batches, each read, committed, delivered and then noted, in order. A backlog's
    /// batches are paced to their checkpoints' cost (files landing live make small batches by
    /// themselves); a reload asked for meanwhile applies from the next batch on; a stop asked for ends
    /// the reading after the batch in hand (the first batch is always read). Files held behind one
    /// still being written end the reading too, looked at again on the next wakes. A kill at any point
    /// leaves the batches committed so far; the rest is read again at the next start.
    /// - Throws: ``TailError`` when the store fails.
    mutating func read(_ toRead: [IngestPipeline.FollowedInput], heads: [String: String]) throws(TailError) {
        var index = 0
        while index < toRead.count && (!control.stopRequested || index == 0) {
            // A reload asked for during a backlog applies from the next batch on.
            if index > 0 && control.takeReloadRequest() { follower.reloadSetup() }
            // A backlog commits in batches paced to its checkpoints' cost; files landing live make
            // small batches by themselves.
            let chunk = Array(toRead[index..<min(toRead.count, index + pacer.files)])
            index += chunk.count
            let batch = readBatch(chunk, heads: heads)
            if !batch.held.isEmpty {
                // The files after the held ones wait too, looked at again on the next wakes.
                for later in toRead[index...] { watcher.lookAgain(at: later.path, true) }
                index = toRead.count
            }
            try commit(batch, files: chunk.count)
            note(chunk, batch)
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
