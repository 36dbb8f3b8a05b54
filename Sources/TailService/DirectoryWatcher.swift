import Foundation
import Inputs
import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

/// What `tail` looks at on each wake, in proportion to what changed rather than to the tree.
///
/// The first wake walks the followed paths once (the backlog), adding an inotify watch to each directory
/// just before listing it: what landed before the watch is listed, what lands after it is signalled.
/// Later wakes read the events (watch, name, mask) and look only at the names they carry; a new
/// directory gets its watch and is walked once (files may have landed in it before the watch existed).
/// A small set of pending paths (gzip files still being written, followed files that end in a partial
/// line, followed paths that are files) is looked at on every wake, and the followed paths are `stat`'ed
/// to notice one that disappears or appears. Nothing else is touched while nothing lands.
///
/// Fallbacks, each said once on stderr: an event queue overflow (`IN_Q_OVERFLOW`) drops every watch and
/// walks the whole tree again (what landed meanwhile is found by the walk); a watch that cannot be added
/// because the watch limit is reached (`ENOSPC`) turns every later wake into a full walk, at
/// `--poll-interval`. Without inotify (`--poll`, or `inotify_init1` failing) every wake is a full walk.
///
/// Test-only hooks (environment): `CHIPTRAIL_TEST_INOTIFY_OVERFLOW=1` treats every wake that read events
/// as an overflow; `CHIPTRAIL_TEST_INOTIFY_WATCH_LIMIT=N` makes every watch after the first N fail as if
/// the limit were reached.
///
/// A wake descriptor (the read end of ``TailControl``'s pipe) is polled with the events: a shutdown or
/// reload request ends the wait at once.
final class DirectoryWatcher {
    /// What one wake found.
    struct Wake {
        /// Paths to look at (each once), in delivery-time order, handed out one at a time (a walk of the
        /// whole tree a day at a time).
        var candidates = WakeCandidates()
        /// Lines for stderr, each said once per process.
        var notices: [Notice] = []
        /// Whether the wake walked the whole tree (the first wake, after an overflow, every wake without
        /// inotify): what an earlier wake left unread is in it.
        var walkedWholeTree = false
    }

    enum Notice {
        case raw(String)
        case diagnostic(Diagnostic)
    }

    private typealias Identity = InputEnumerator.DirectoryIdentity

    private struct Watch {
        var path: String
        var identity: Identity
    }

    private let roots: [String]
    /// One wake only (`--once`): its walk leaves nothing out (``LocalDeliveryWalk/changedUpTo`` unset).
    private let once: Bool
    private let usesInotify: Bool
    private var fd: Int32 = -1
    /// Watches of directories in the tree, by watch descriptor, by path, and the directories' identities.
    private var watches: [Int32: Watch] = [:]
    private var byPath: [String: Int32] = [:]
    private var identities = Set<Identity>()
    /// Watches of the followed paths' parents that are not in the tree: they only wake the loop.
    private var wakeOnly = Set<Int32>()
    /// Looked at on every wake.
    private var pending = Set<String>()
    /// The followed paths' problems now (by path), each reported once while it lasts by the caller.
    private var problemsByPath: [String: Diagnostic] = [:]
    private var missingRoots = Set<String>()
    private var firstWake = true
    /// Every wake walks the whole tree: `--poll`, no inotify, or the watch limit reached.
    private var walkEveryWake: Bool
    private var overflowed = false
    /// The next wake walks the whole tree (``walkTreeAtNextWake()``).
    private var walkRequested = false
    private var saidOverflow = false
    private var saidWatchLimit = false
    private var notices: [Notice] = []
    private let testOverflow: Bool
    private let testWatchLimit: Int?
    /// Readable when the loop is asked to stop or reload: ends a wait early.
    private let control: TailControl?

    private static let mask: UInt32 =
        0x0000_0002 /* IN_MODIFY */ | 0x0000_0004 /* IN_ATTRIB */ | 0x0000_0008 /* IN_CLOSE_WRITE */
        | 0x0000_0040 /* IN_MOVED_FROM */ | 0x0000_0080 /* IN_MOVED_TO */ | 0x0000_0100 /* IN_CREATE */
        | 0x0000_0400 /* IN_DELETE_SELF */ | 0x0000_0800 /* IN_MOVE_SELF */ | 0x0100_0000 /* IN_ONLYDIR */
    private static let inAttrib: UInt32 = 0x0000_0004
    private static let inCreate: UInt32 = 0x0000_0100
    private static let inMovedTo: UInt32 = 0x0000_0080
    private static let inMovedFrom: UInt32 = 0x0000_0040
    private static let inMoveSelf: UInt32 = 0x0000_0800
    private static let inDeleteSelf: UInt32 = 0x0000_0400
    private static let inQueueOverflow: UInt32 = 0x0000_4000
    private static let inIgnored: UInt32 = 0x0000_8000
    private static let inIsDirectory: UInt32 = 0x4000_0000

    /// - Parameters:
    ///   - paths: the followed paths (directories, followed recursively, or files).
    ///   - inotify: whether to use inotify (false: every wake walks the tree).
    ///   - control: whose requests (stop, reload) end a wait at once.
    ///   - once: one wake only (`--once`): its walk is `ingest`'s, every file its days' listings find
    ///     (no later wake takes what changed after the wake began, so nothing is left out for one).
    init(paths: [String], inotify: Bool, control: TailControl? = nil, once: Bool = false) {
        roots = paths
        self.control = control
        self.once = once
        let environment = ProcessInfo.processInfo.environment
        testOverflow = !(environment["CHIPTRAIL_TEST_INOTIFY_OVERFLOW"] ?? "").isEmpty
        testWatchLimit = environment["CHIPTRAIL_TEST_INOTIFY_WATCH_LIMIT"].flatMap { Int($0) }
        if inotify { fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) }
        usesInotify = fd >= 0
        walkEveryWake = !usesInotify
        if usesInotify { watchParents() }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// The followed paths' problems now: missing paths, unreadable directories, loops, special files.
    var problems: [Diagnostic] {
        problemsByPath.sorted { $0.key.utf8Precedes($1.key) }.map(\.value)
    }

    /// Whether every wake walks the whole tree (`--poll`, no inotify, or the watch limit reached).
    var walksEveryWake: Bool { walkEveryWake }

    /// Paths looked at on every wake.
    var pendingCount: Int { pending.count }

    /// Has the next wake walk the whole tree (the watches kept): what changed is found by the walk
    /// rather than by paths looked at on every wake, when those would be too many.
    func walkTreeAtNextWake() { walkRequested = true }

    /// Whether `path` is looked at on every wake (a gzip file still being written, a followed file whose
    /// last line is still being written), or only when an event names it.
    func lookAgain(at path: String, _ again: Bool) {
        if again { pending.insert(path) } else { pending.remove(path) }
    }

    /// The first call walks the tree at once; later calls wait up to `seconds` for a change (a stop or
    /// reload request also ends the wait), then say what to look at.
    ///
    /// A wake holds every file landed up to a moment and none landed after it, so that `tail` reads files
    /// in the order they landed (each wake's in delivery-time order), never one landed later before one
    /// landed earlier. A walk breaks that by itself: it lists what has landed by the time it gets to a
    /// directory, while files landed meanwhile in directories already watched wait in the event queue.
    /// With files landing fast into new directories (a backlog synced into per-day folders), the walks of
    /// a burst of new directories listed files delivered hours after files whose events were still queued
    /// and read at the next wake: the event-time frontier then moved past those files' records, which
    /// joined a later slice than in `ingest` (late), and alerts changed with the timing. So after every
    /// walk the event queue is read again, and the directories it names walked, until a read names no new
    /// directory (at most ``drainRounds`` times: a tree that gets new directories without pause). The
    /// whole tree's walk lists its days later, as they are read (hours into a backlog): those listings
    /// leave out files changed after the moment the events were last read (``changeClockNow()``), which
    /// the next wakes' events name, so that a late day does not hand out files landed after files that
    /// earlier listings missed. Not every change of a file's status raises an event on its folder (a hard
    /// link made or removed, a write through a mapping): the loop hands the paths left out back as
    /// pending (``lookAgain(at:_:)``), so the next wake looks at them whatever it is told.
    /// - Complexity: O(changes since the last wake + pending paths + followed paths); O(entries of the
    ///   tree) on the first wake, after an overflow, and on every wake without inotify.
    func next(waitingUpTo seconds: Double) -> Wake {
        var candidates = OrderedPaths()
        var directories: [String] = []
        var wholeTree = false
        if firstWake {
            firstWake = false
            wholeTree = true
        } else {
            wait(seconds: seconds)
            if usesInotify { readEvents(files: &candidates, directories: &directories) }
            if overflowed || walkEveryWake || walkRequested {
                wholeTree = true
            } else {
                checkRoots(files: &candidates, directories: &directories)
            }
            walkRequested = false
        }
        /// The whole tree's walk, when the wake walked it (each followed path a day at a time).
        var walked: [WakeCandidates.Source] = []
        var rounds = 0
        /// The wake's start, for the whole tree's walk: its days' listings leave out what changed after it.
        var start: Int64?
        var walkedTree = false
        while true {
            if wholeTree {
                wholeTree = false
                if overflowed { reset() }
                candidates = OrderedPaths()
                directories = []
                walked = walkWholeTree()
                walkedTree = true
            } else if !directories.isEmpty {
                let walking = directories
                directories = []
                for directory in walking { walk(directory, into: &candidates) }
                if overflowed || walkEveryWake {
                    // A watch could not be added while walking a new directory: the tree is walked instead.
                    wholeTree = true
                    continue
                }
            } else {
                break
            }
            // The wake starts before the events are read for the last time: the days the walk lists later
            // (hours later, in a backlog) leave out what changed after it, which is the next wakes' (named
            // by events, or found by their walks) — else a day listed late would hand out files landed
            // after others that earlier listings missed and the next wake reads (out of landing order).
            // Under `--once` there is no next wake: the walk lists what it finds, as `ingest`'s does.
            if walkedTree && !once { start = Self.changeClockNow() }
            // Something was walked: what landed while it was listed is read too.
            guard usesInotify && !walkEveryWake && rounds < Self.drainRounds else { break }
            rounds += 1
            readEvents(files: &candidates, directories: &directories)
            if overflowed { wholeTree = true }
        }
        if let start {
            walked = walked.map { source in
                guard case .walk(var walk) = source else { return source }
                walk.changedUpTo = start
                return .walk(walk)
            }
        }
        var wake = Wake()
        wake.walkedWholeTree = walkedTree
        // The pending paths come with a walk too: a file its days' listings leave out (changed after the
        // wake began, ``LocalDeliveryWalk/changedUpTo``) is pending, and under `--poll` every wake is a
        // walk — a file appended faster than a walk would otherwise wait for ever.
        for path in pending { candidates.append(path) }
        // A path both walked and named by an event comes once (the merge drops the second).
        let named = WakeCandidates.Source.paths(InputEnumerator.sortedByDeliveryTime(candidates.paths), next: 0)
        wake.candidates = WakeCandidates(sources: walked + [named])
        wake.notices = takeNotices()
        return wake
    }

    /// How many times one wake reads the event queue again after a walk (see ``next(waitingUpTo:)``).
    static let drainRounds = 1000

    /// Now on the clock of files' change times (nanoseconds since the epoch), returned once the coarse
    /// clock the kernel stamps them with has passed it (at most a tick, 1–4 ms): a file with a change time
    /// up to the moment returned changed before this returned (so an event read after it names the file,
    /// if its directory was watched), and one changed later has a later change time.
    static func changeClockNow() -> Int64 {
        func nanoseconds(_ t: timespec) -> Int64 { Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec) }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let moment = nanoseconds(now)
        var coarse = timespec()
        // Bounded: a clock set back leaves the coarse clock behind for longer than a tick.
        for _ in 0..<500 {
            clock_gettime(CLOCK_REALTIME_COARSE, &coarse)
            if nanoseconds(coarse) > moment { break }
            usleep(100)
        }
        return moment
    }

    /// Test-only: called with each directory just before it is watched and listed.
    var testBeforeListing: ((String) -> Void)? = nil

    // MARK: - Walks

    /// Walks every followed path: their inputs, each path's in delivery-time order — a directory's a day
    /// at a time (``LocalDeliveryWalk``: its folders above a date and their days, not a path per file),
    /// each directory watched just before this walk lists it; a file as itself.
    private func walkWholeTree() -> [WakeCandidates.Source] {
        var sources: [WakeCandidates.Source] = []
        var problems: [Diagnostic] = []
        var visited = Set<Identity>()
        for root in roots {
            var info = stat()
            if stat(root, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
                let walk = LocalDeliveryWalk(
                    directory: root, visited: &visited, beforeListing: usesInotify ? { self.watch($0, $1) } : nil)
                problems += walk.problems
                sources.append(.walk(walk))
            } else {
                let scan = InputEnumerator.scan([root])
                problems += scan.problems
                if !scan.inputs.isEmpty { sources.append(.paths(scan.inputs, next: 0)) }
            }
        }
        problemsByPath = [:]
        for problem in problems { problemsByPath[problem.path] = problem }
        missingRoots = Set(roots.filter { problemsByPath[$0] != nil && !exists($0) })
        return sources
    }

    /// Walks one directory found new (created, moved in, or a followed path that appeared).
    private func walk(_ directory: String, into candidates: inout OrderedPaths) {
        for key in problemsByPath.keys where key == directory || key.hasPrefix(directory + "/") {
            problemsByPath[key] = nil
        }
        let scan = InputEnumerator.scan([directory], known: identities, beforeListing: { self.watch($0, $1) })
        for problem in scan.problems { problemsByPath[problem.path] = problem }
        for path in scan.inputs { candidates.append(path) }
    }

    /// Each followed path: a file is looked at on every wake; a directory not watched yet (it appeared,
    /// or was replaced) is walked; a missing one is a problem until it appears.
    private func checkRoots(files: inout OrderedPaths, directories: inout [String]) {
        for root in roots {
            var info = stat()
            guard stat(root, &info) == 0 else {
                if let problem = InputEnumerator.scan([root]).problems.first {
                    problemsByPath[root] = problem
                    missingRoots.insert(root)
                }
                continue
            }
            if missingRoots.remove(root) != nil { problemsByPath[root] = nil }
            if info.st_mode & S_IFMT == S_IFDIR {
                if byPath[root] == nil { directories.append(root) }
            } else {
                files.append(root)
            }
        }
    }

    private func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    // MARK: - Watches

    /// Adds a watch to `directory` (called by the walk just before it lists the directory).
    private func watch(_ directory: String, _ identity: Identity) {
        testBeforeListing?(directory)
        guard fd >= 0 else { return }
        // The path as the walk spells it: events' paths (this path and a name) are then the walk's.
        let path = directory
        if let testWatchLimit, watches.count >= testWatchLimit, byPath[path] == nil {
            watchLimitReached(at: path)
            return
        }
        let wd = inotify_add_watch(fd, path, Self.mask)
        guard wd >= 0 else {
            if errno == ENOSPC { watchLimitReached(at: path) }
            // Otherwise the directory vanished or cannot be read: the walk names it.
            return
        }
        wakeOnly.remove(wd)
        // The same directory reached by another path keeps its first path.
        if watches[wd] != nil { return }
        watches[wd] = Watch(path: path, identity: identity)
        byPath[path] = wd
        identities.insert(identity)
    }

    private func watchParents() {
        for root in roots {
            var parent = (root as NSString).deletingLastPathComponent
            if parent.isEmpty { parent = "." }
            let wd = inotify_add_watch(fd, parent, Self.mask)
            if wd >= 0 && watches[wd] == nil { wakeOnly.insert(wd) }
        }
    }

    /// Drops the watches of `directory` and everything below it (it was renamed away or deleted).
    private func unwatch(under directory: String) {
        let prefix = directory + "/"
        for (path, wd) in byPath where path == directory || path.hasPrefix(prefix) {
            inotify_rm_watch(fd, wd)
            forget(wd)
        }
        for key in problemsByPath.keys where key == directory || key.hasPrefix(prefix) { problemsByPath[key] = nil }
        pending = pending.filter { !$0.hasPrefix(prefix) }
    }

    private func forget(_ wd: Int32) {
        guard let watch = watches.removeValue(forKey: wd) else { return }
        if byPath[watch.path] == wd { byPath[watch.path] = nil }
        identities.remove(watch.identity)
    }

    private func watchLimitReached(at directory: String) {
        walkEveryWake = true
        guard !saidWatchLimit else { return }
        saidWatchLimit = true
        let limit =
            (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_user_watches", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        notices.append(
            .diagnostic(
                Diagnostic(
                    path: directory, position: .file, severity: .warning, category: "tail",
                    message:
                        "cannot watch this directory: the inotify watch limit is reached (fs.inotify.max_user_watches = \(limit)); from now on the whole tree is walked every --poll-interval, which costs time in proportion to the files in it; raise the limit (e.g. sysctl fs.inotify.max_user_watches=\(Self.suggestedLimit(limit))) and restart tail"
                )))
    }

    private static func suggestedLimit(_ current: String) -> Int {
        max(1_048_576, (Int(current) ?? 0) * 4)
    }

    /// After an overflow: a new inotify instance, every watch added again by the walk that follows.
    private func reset() {
        overflowed = false
        close(fd)
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        watches = [:]
        byPath = [:]
        identities = []
        wakeOnly = []
        if fd < 0 {
            walkEveryWake = true
            return
        }
        watchParents()
    }

    // MARK: - Events

    /// Waits for an event, a stop or reload request, or `seconds`; after an event lets a writer finish
    /// the burst it started, so several files landing together make one batch.
    private func wait(seconds: Double) {
        // Asked to stop: no more waiting (the request's wake may have been taken by an earlier wait).
        if let control, control.stopRequested { return }
        var descriptors: [pollfd] = []
        if fd >= 0 { descriptors.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
        if let control { descriptors.append(pollfd(fd: control.wakeDescriptor, events: Int16(POLLIN), revents: 0)) }
        let timeout = Int32((seconds * 1000).rounded(.up))
        if descriptors.isEmpty {
            usleep(useconds_t(seconds * 1_000_000))
            return
        }
        var ready = descriptors.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
        while ready < 0 && errno == EINTR {
            ready = descriptors.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
        }
        guard ready > 0 else { return }
        if let control, descriptors.last!.revents != 0 {
            // A request: the loop looks at it now; no pause for a burst.
            control.drainWakes()
            return
        }
        usleep(20_000)
    }

    /// Reads every queued event: names of files to look at, new directories to walk; watches of
    /// directories deleted or moved away dropped; an overflow noted.
    private func readEvents(files: inout OrderedPaths, directories: inout [String]) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var readAny = false
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            readAny = true
            var offset = 0
            while offset + 16 <= n {
                let (wd, eventMask, length) = buffer.withUnsafeBytes { raw in
                    (
                        raw.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                        raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                        Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    )
                }
                var name = ""
                if length > 0 {
                    let bytes = buffer[(offset + 16)..<min(n, offset + 16 + length)]
                    name = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                }
                offset += 16 + length
                // The test hook loses the events, as an overflow does.
                if !testOverflow {
                    handle(wd: wd, mask: eventMask, name: name, files: &files, directories: &directories)
                }
            }
        }
        if testOverflow && readAny { overflow() }
    }

    private func handle(wd: Int32, mask: UInt32, name: String, files: inout OrderedPaths, directories: inout [String]) {
        if mask & Self.inQueueOverflow != 0 {
            overflow()
            return
        }
        guard let watch = watches[wd] else { return }  // a parent's, or one already dropped
        if mask & Self.inIgnored != 0 {
            forget(wd)
            return
        }
        if mask & Self.inDeleteSelf != 0 { return }  // IN_IGNORED follows
        if mask & Self.inMoveSelf != 0 {
            // Moved, and not seen leaving a watched parent (a followed path itself, or its parent renamed).
            var info = stat()
            let there =
                stat(watch.path, &info) == 0
                && Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) == watch.identity
            if !there { unwatch(under: watch.path) }
            return
        }
        guard !name.isEmpty, !name.hasPrefix(".") else { return }
        let path = watch.path.hasSuffix("/") ? watch.path + name : watch.path + "/" + name
        if mask & Self.inMovedFrom != 0 {
            if mask & Self.inIsDirectory != 0 { unwatch(under: path) } else { pending.remove(path) }
            return
        }
        if mask & Self.inIsDirectory != 0 {
            // Created or moved in: walk it. Its permissions changed and it is not watched (it could not
            // be read): walk it, it may be readable now.
            if mask & Self.inAttrib != 0 && mask & (Self.inCreate | Self.inMovedTo) == 0 {
                if byPath[path] == nil { directories.append(path) }
            } else if mask & (Self.inCreate | Self.inMovedTo) != 0 {
                if let wd = byPath[path], let known = watches[wd] {
                    // Watched already (a walk of its parent reached it first): nothing to do. Another
                    // directory of that name watched before was replaced: its watches go first.
                    var info = stat()
                    if stat(path, &info) == 0
                        && Identity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) == known.identity
                    {
                        return
                    }
                    unwatch(under: path)
                }
                directories.append(path)
            }
            return
        }
        switch InputEnumerator.entry(path) {
        case .file:
            problemsByPath[path] = nil
            files.append(path)
        case .directory:
            // A symbolic link to a directory.
            directories.append(path)
        case .vanished:
            pending.remove(path)
        case .problem(let problem):
            problemsByPath[path] = problem
        }
    }

    private func overflow() {
        overflowed = true
        guard !saidOverflow else { return }
        saidOverflow = true
        let limit =
            (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        notices.append(
            .raw(
                "chiptrail: warning: [tail] the inotify event queue overflowed (more changes at once than fs.inotify.max_queued_events = \(limit) holds); the whole tree is walked again, so nothing is lost (said once; if it recurs, raise fs.inotify.max_queued_events)"
            ))
    }

    private func takeNotices() -> [Notice] {
        defer { notices = [] }
        return notices
    }
}

/// Paths in the order first added, each once.
private struct OrderedPaths {
    private(set) var paths: [String] = []
    private var members = Set<String>()

    mutating func append(_ path: String) {
        if members.insert(path).inserted { paths.append(path) }
    }
}
