import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// How `chiptrail tail` finds what landed: the tree walked once at start, then inotify events (new
/// directories watched and walked), with a full walk after an overflow or at the watch limit. Real
/// processes on real directories; a long --poll-interval, so only events (or the fallbacks) can find files.
@Suite(.serialized) struct TailDiscoveryTests {
    /// Starts tail in `directory` on `in/`, stdout and stderr appended to files there.
    static func start(_ directory: String, pollInterval: String = "30", environment: [String: String] = [:]) throws
        -> Process
    {
        try TailTests.start(directory, pollInterval: pollInterval, environment: environment)
    }

    static func filesRead(_ dir: String) throws -> Int {
        let r = try BuiltBinary.run([
            "query", "--store", dir + "/s.db", "--output", "csv", "SELECT COUNT(*) FROM files",
        ])
        return Int(r.stdout.split(separator: "\n").last ?? "") ?? -1
    }

    /// Waits (up to 30 s) until the ledger holds `count` files; returns what it holds.
    @discardableResult
    static func waitForFiles(_ dir: String, _ count: Int) throws -> Int {
        var n = -1
        for _ in 0..<600 {
            n = try filesRead(dir)
            if n == count { return n }
            usleep(50_000)
        }
        return n
    }

    /// Writes stream file `index` (a real CloudTrail object) at `relative` under `in/`, making its directories.
    static func land(_ index: Int, at relative: String, in dir: String) {
        let data = FileManager.default.contents(atPath: TailTests.sample + "/" + stream[index])!
        let target = dir + "/in/" + relative
        try? FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: target, contents: data)
    }

    /// The stream's gzip'd trail objects (digest files hold no events but are fine too).
    static let stream = TailTests.stream.filter { $0.hasSuffix(".json.gz") }

    static func name(_ index: Int) -> String { (stream[index] as NSString).lastPathComponent }

    static func stop(_ p: Process) {
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
    }

    static func stderr(_ dir: String) -> String {
        (try? String(contentsOfFile: dir + "/stderr.txt", encoding: .utf8)) ?? ""
    }

    /// `count` empty files (which tail skips until they have content) in directories of 100.
    static func fill(_ root: String, count: Int) {
        for i in 0..<count {
            if i % 100 == 0 { mkdir(root + "/bulk-\(i / 100)", 0o755) }
            let fd = open(root + "/bulk-\(i / 100)/f-\(i).json", O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
            if fd >= 0 { close(fd) }
        }
    }

    /// User plus system CPU time of a process, in clock ticks.
    static func cpuTicks(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    @Test func aFileInADirectoryCreatedAfterStartIsRead() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        TailTests.prepare(dir)
        let p = try Self.start(dir.path)
        TailTests.waitUntilReady(p)
        try Self.waitForFiles(dir.path, 0)
        // Nested directories made and written at once (before tail can have watched them), ...
        for i in 0..<8 {
            Self.land(i, at: "acct-\(i)/CloudTrail/us-east-1/2026/03/0\(i + 1)/\(Self.name(i))", in: dir.path)
        }
        // ... a directory filled elsewhere and moved in, ...
        let outside = dir.path + "/outside/2026/03/09"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        FileManager.default.createFile(
            atPath: outside + "/" + Self.name(8),
            contents: FileManager.default.contents(atPath: TailTests.sample + "/" + Self.stream[8]))
        try FileManager.default.moveItem(atPath: dir.path + "/outside/2026", toPath: dir.path + "/in/moved-in")
        // ... and a file landing in a directory made a moment before.
        try Self.waitForFiles(dir.path, 9)
        Self.land(9, at: "acct-0/CloudTrail/us-east-1/2026/03/01/later/\(Self.name(9))", in: dir.path)
        let read = try Self.waitForFiles(dir.path, 10)
        Self.stop(p)
        #expect(read == 10, "\(Self.stderr(dir.path))")
        #expect(p.terminationStatus == 0)
        let paths = try BuiltBinary.run([
            "query", "--store", dir.path + "/s.db", "--output", "csv", "SELECT path FROM files",
        ]).stdout
        #expect(paths.contains("in/moved-in/03/09/" + Self.name(8)), "\(paths)")
        #expect(!Self.stderr(dir.path).contains("error:"), "\(Self.stderr(dir.path))")
    }

    @Test func aDirectoryRenamedAwayOrDeletedAndMadeAgainIsFollowedUnderItsName() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        TailTests.prepare(dir)
        let p = try Self.start(dir.path)
        TailTests.waitUntilReady(p)
        try Self.waitForFiles(dir.path, 0)
        Self.land(0, at: "d/x/" + Self.name(0), in: dir.path)
        try Self.waitForFiles(dir.path, 1)
        // Renamed out of the tree: what lands there afterwards is not followed.
        try FileManager.default.moveItem(atPath: dir.path + "/in/d", toPath: dir.path + "/gone")
        Self.land(1, at: "d/x/" + Self.name(1), in: dir.path)
        try Self.waitForFiles(dir.path, 2)
        FileManager.default.createFile(
            atPath: dir.path + "/gone/x/" + Self.name(2),
            contents: FileManager.default.contents(atPath: TailTests.sample + "/" + Self.stream[2]))
        // Deleted and made again.
        try FileManager.default.removeItem(atPath: dir.path + "/in/d")
        Self.land(3, at: "d/x/" + Self.name(3), in: dir.path)
        let read = try Self.waitForFiles(dir.path, 3)
        Self.stop(p)
        #expect(read == 3, "\(Self.stderr(dir.path))")
        let paths = try BuiltBinary.run([
            "query", "--store", dir.path + "/s.db", "--output", "csv", "SELECT path FROM files ORDER BY path",
        ]).stdout
        #expect(
            paths == "path\n" + [0, 1, 3].map { "in/d/x/" + Self.name($0) }.sorted().joined(separator: "\n") + "\n",
            "\(paths)")
    }

    @Test func filesWaitingBehindAGzipFileStillBeingWrittenAreReadWhenItIsWhole() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        TailTests.prepare(dir)
        let p = try Self.start(dir.path)
        TailTests.waitUntilReady(p)
        try Self.waitForFiles(dir.path, 0)
        // The earliest object half written; two later ones land whole behind it (they wait for it, and
        // no event will name them again).
        let first = FileManager.default.contents(atPath: TailTests.sample + "/" + Self.stream[0])!
        let target = dir.path + "/in/d/" + Self.name(0)
        try FileManager.default.createDirectory(atPath: dir.path + "/in/d", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: target, contents: first.prefix(first.count / 2))
        usleep(300_000)
        Self.land(1, at: "d/" + Self.name(1), in: dir.path)
        Self.land(2, at: "e/" + Self.name(2), in: dir.path)
        usleep(500_000)
        let h = FileHandle(forWritingAtPath: target)!
        h.seekToEndOfFile()
        h.write(first.suffix(from: first.count / 2))
        try h.close()
        let read = try Self.waitForFiles(dir.path, 3)
        Self.stop(p)
        #expect(read == 3, "\(Self.stderr(dir.path))")
        #expect(!Self.stderr(dir.path).contains("error:"), "\(Self.stderr(dir.path))")
    }

    @Test func filesLandingWhileTheTreeIsFirstWalkedAreRead() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        TailTests.prepare(dir)
        // Enough entries that the first walk takes a while.
        Self.fill(dir.path + "/in", count: 30_000)
        let p = try Self.start(dir.path)
        // Land at once, without waiting for the daemon: into existing directories, early and late in
        // the walk's order, and into new ones.
        for i in 0..<12 {
            let place = i % 3 == 0 ? "bulk-0" : i % 3 == 1 ? "bulk-299" : "new-\(i)/deeper"
            Self.land(i, at: "\(place)/\(Self.name(i))", in: dir.path)
            usleep(20_000)
        }
        TailTests.waitUntilReady(p)
        let read = try Self.waitForFiles(dir.path, 12)
        Self.stop(p)
        #expect(read == 12, "\(Self.stderr(dir.path))")
    }

    @Test func anEventQueueOverflowWalksTheTreeAgainAndSaysSoOnce() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        TailTests.prepare(dir)
        // Test hook: every wake that read events behaves as if the queue had overflowed (its events lost).
        let p = try Self.start(dir.path, environment: ["CHIPTRAIL_TEST_INOTIFY_OVERFLOW": "1"])
        TailTests.waitUntilReady(p)
        try Self.waitForFiles(dir.path, 0)
        for burst in 0..<3 {
            for i in (burst * 4)..<(burst * 4 + 4) {
                Self.land(i, at: "b\(burst)/x/\(i % 2)/\(Self.name(i))", in: dir.path)
            }
            try Self.waitForFiles(dir.path, burst * 4 + 4)
        }
        let read = try Self.waitForFiles(dir.path, 12)
        Self.stop(p)
        let stderr = Self.stderr(dir.path)
        #expect(read == 12, "\(stderr)")
        #expect(stderr.components(separatedBy: "inotify event queue overflowed").count - 1 == 1, "\(stderr)")
        #expect(stderr.contains("raise fs.inotify.max_queued_events"), "\(stderr)")
    }

    @Test func atTheWatchLimitTheTreeIsWalkedEveryIntervalAndTheLimitIsNamedOnce() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        TailTests.prepare(dir)
        try FileManager.default.createDirectory(atPath: dir.path + "/in/old/deeper", withIntermediateDirectories: true)
        // Test hook: only two watches can be added (in/ and in/old); the third fails as at the limit.
        let p = try Self.start(dir.path, pollInterval: "0.1", environment: ["CHIPTRAIL_TEST_INOTIFY_WATCH_LIMIT": "2"])
        TailTests.waitUntilReady(p)
        try Self.waitForFiles(dir.path, 0)
        for i in 0..<6 {
            Self.land(i, at: (i % 2 == 0 ? "old/deeper/" : "new-\(i)/y/") + Self.name(i), in: dir.path)
            usleep(100_000)
        }
        let read = try Self.waitForFiles(dir.path, 6)
        Self.stop(p)
        let stderr = Self.stderr(dir.path)
        #expect(read == 6, "\(stderr)")
        #expect(stderr.components(separatedBy: "inotify watch limit is reached").count - 1 == 1, "\(stderr)")
        #expect(stderr.contains("sysctl fs.inotify.max_user_watches="), "\(stderr)")
    }

    @Test func anIdleDaemonDoesNotWalkTheTree() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        TailTests.prepare(dir)
        Self.fill(dir.path + "/in", count: 50_000)
        // Wakes twenty times a second: a walk of 50,000 entries per wake would keep a core busy.
        let p = try Self.start(dir.path, pollInterval: "0.05")
        TailTests.waitUntilReady(p)
        // The first walk is done once a file landed after it is read.
        Self.land(0, at: "bulk-7/" + Self.name(0), in: dir.path)
        #expect(try Self.waitForFiles(dir.path, 1) == 1)
        usleep(300_000)
        let before = try #require(Self.cpuTicks(p.processIdentifier))
        sleep(3)
        let after = try #require(Self.cpuTicks(p.processIdentifier))
        // Still awake: a file landing now is read.
        Self.land(1, at: "bulk-123/" + Self.name(1), in: dir.path)
        let read = try Self.waitForFiles(dir.path, 2)
        Self.stop(p)
        let hertz = Int(sysconf(Int32(_SC_CLK_TCK)))
        // Sixty wakes that each look at one followed path: well under 5% of a core over 3 s.
        #expect(after - before <= 3 * hertz / 20, "\(after - before) ticks of CPU in 3 s idle (\(hertz) ticks/s)")
        #expect(read == 2)
    }
}
