import Foundation
import GRDB
import Pipeline
import Synchronization
import TestSupport
import Testing

@testable import TailService

/// tail's directory loop over a backlog: what waits behind a file still being written, and how a file
/// already read is known again.
extension TailLoopTests {
    /// A CloudTrail object's place in AWS's layout under `root`, for day `day` of March 2026 at `hhmm`.
    static func objectPath(_ root: String, day: Int, _ hhmm: String, _ tag: String) -> String {
        let dd = String(format: "%02d", day)
        let folder = "\(root)/AWSLogs/\(account)/CloudTrail/us-east-1/2026/03/\(dd)"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return "\(folder)/\(account)_CloudTrail_us-east-1_202603\(dd)T\(hhmm)Z_\(tag).json.gz"
    }

    /// A backlog whose first file is a gzip still being written (no trailer yet), read in batches of 4:
    /// the first batch is held behind it, and what waits on the next wakes is that batch's files, not the
    /// backlog's (the walk's place is kept instead: before, every remaining file went to the paths looked
    /// at on every wake, 31 here). Once the file is complete, the rest of the backlog is read. The settle
    /// time is long (600 s): the four wakes looked at must all come while the gzip still holds the rest,
    /// however loaded the machine.
    @Test func aHeldBatchKeepsTheWalksPlaceNotTheRestOfTheBacklog() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let followed = dir.path + "/in"
        let held = Self.objectPath(followed, day: 1, "0000", "held")
        let complete = Self.trail("i-0held")
        FileManager.default.createFile(atPath: held, contents: Data(complete.dropLast(8)))
        for i in 0..<30 {
            let path = Self.objectPath(
                followed, day: 1 + i / 10, String(format: "%02d%02d", 1 + i % 10, i % 60), "f\(i)")
            FileManager.default.createFile(atPath: path, contents: Data(Self.trail("i-0f\(i)")))
        }
        let figures = Mutex<[TailFollower.WakeFigures]>([])
        let control = try TailControl()
        let store = dir.path + "/s.db"
        let loop = Loop(
            follow: followed, store: store, mappings: Self.mappings(in: dir), once: false, sink: RecordingSink(),
            control: control, pacer: CommitPacer(minimum: 4, maximum: 4),
            onWake: { f in figures.withLock { $0.append(f) } }, settle: 600)
        defer {
            control.requestStop()
            _ = loop.finished(within: 120)
        }
        try #require(Self.wait(120) { figures.withLock { $0.count } >= 4 }, "\(loop.lines.withLock { $0 })")
        let seen = figures.withLock { $0 }
        #expect(seen.allSatisfy { $0.leftUnread }, "\(seen)")
        // Looked at on each wake: the held batch's files at most, not the backlog's 31.
        let batch = 4
        #expect(seen.map(\.pathsLookedAtAgain).max() ?? 0 <= batch, "\(seen.map(\.pathsLookedAtAgain))")
        // Left held: the walk's day being handed out (the busiest, day 1: the gzip and 10 files) and the
        // batch's paths named again — a day's paths, not the backlog's 31 still to come.
        let busiestDay = 1 + 10
        #expect(seen.map(\.pathsLeftHeld).max() ?? 0 <= busiestDay + batch, "\(seen.map(\.pathsLeftHeld))")
        #expect(try Self.rows(store)["files"] == 0)
        // The file completes: it and every file after it are read.
        Self.land(complete, as: (held as NSString).lastPathComponent, in: (held as NSString).deletingLastPathComponent)
        try #require(Self.wait(120) { try Self.rows(store)["files"] == 31 }, "\(loop.lines.withLock { $0 })")
        try #require(Self.wait(120) { figures.withLock { $0.last.map { !$0.leftUnread } ?? false } })
        #expect(figures.withLock { $0.last?.pathsLookedAtAgain } == 0)
    }

    /// A file read before and unchanged is known by the stamp its ledger row keeps, without a read of
    /// it (each `--once` pass here; every wake after an inotify overflow, whose walk finds files no
    /// longer among those seen): no fingerprint is taken. One touched since (same content, another
    /// modification time) is fingerprinted, found read, and not read again.
    @Test func aFileAlreadyReadIsKnownByItsStampWithoutAFingerprint() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let followed = dir.path + "/in"
        var paths: [String] = []
        for i in 0..<3 {
            paths.append(Self.objectPath(followed, day: 1 + i, "0100", "s\(i)"))
            FileManager.default.createFile(atPath: paths[i], contents: Data(Self.trail("i-0s\(i)")))
        }
        let store = dir.path + "/s.db"
        let mappings = Self.mappings(in: dir)
        func pass() throws -> (Loop, TailFollower.WakeFigures?) {
            try Self.oncePass(followed, store: store, mappings: mappings)
        }
        let (first, _) = try pass()
        #expect(first.said("tail stopped: 3 file(s) read"), "\(first.lines.withLock { $0 })")
        let (second, figures) = try pass()
        #expect(second.said("tail stopped: 0 file(s) read"), "\(second.lines.withLock { $0 })")
        #expect(figures?.ledgerFingerprints == 0)
        // Touched: the same bytes, a new modification time.
        var times = [timespec(tv_sec: 1_000_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, paths[1], &times, 0) == 0)
        let (third, touched) = try pass()
        #expect(third.said("tail stopped: 0 file(s) read"), "\(third.lines.withLock { $0 })")
        #expect(touched?.ledgerFingerprints == 1)
    }

    /// A backlog file hard-linked elsewhere after the first wake began and before its day is listed: the
    /// link changes its status change time (so the day's listing leaves it out, as landed after the wake
    /// began), and Linux tells only watches of the file itself, not of its folder — no event names it.
    /// It is still read: the daemon at its next wake (the paths left out are looked at again; before, it
    /// never read it); `--once` in its day's place, its walk leaving nothing out as `ingest`'s (before,
    /// it exited 0 with 29 files read).
    @Test(arguments: [true, false]) func aFileLinkedDuringTheWalkIsStillRead(once: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let followed = dir.path + "/in"
        let paths = Self.backlog(of: 30, in: followed, tag: "l")
        let elsewhere = dir.path + "/backup"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        let linked = paths[25]
        let linkedOnce = Mutex(false)
        let store = dir.path + "/s.db"
        let control = try TailControl()
        let loop = Loop(
            follow: followed, store: store, mappings: Self.mappings(in: dir), once: once, sink: RecordingSink(),
            control: control, pacer: CommitPacer(minimum: 4, maximum: 4),
            beforeReading: {
                // The first wake's walk is done, its days not listed yet (day 3 comes after 20 files).
                guard
                    linkedOnce.withLock({
                        let first = !$0; $0 = true; return first
                    })
                else { return }
                _ = link(linked, elsewhere + "/linked.json.gz")
            })
        defer {
            control.requestStop()
            _ = loop.finished(within: 120)
        }
        if once {
            try #require(loop.finished(within: 300))
            #expect(loop.failure.withLock { $0 } == nil)
            #expect(loop.said("tail stopped: 30 file(s) read"), "\(loop.lines.withLock { $0 })")
        } else {
            #expect(Self.wait(120) { (try? Self.rows(store))?["files"] == 30 }, "\((try? Self.rows(store)) ?? [:])")
        }
        #expect(try Self.rows(store)["files"] == 30)
    }

    /// `count` objects over days of ten (one an hour, instances `i-0<tag><n>`) under `followed`: their paths,
    /// in delivery order.
    static func backlog(of count: Int, in followed: String, tag: String) -> [String] {
        (0..<count).map { i in
            let path = objectPath(
                followed, day: 1 + i / 10, String(format: "%02d%02d", 1 + i % 10, i % 60), "\(tag)\(i)")
            FileManager.default.createFile(atPath: path, contents: Data(trail("i-0\(tag)\(i)")))
            return path
        }
    }

    /// A `tail --once` pass over `followed` into `store`, finished without a failure, and its last wake's
    /// figures.
    static func oncePass(_ followed: String, store: String, mappings: String) throws -> (
        Loop, TailFollower.WakeFigures?
    ) {
        let figures = Mutex<TailFollower.WakeFigures?>(nil)
        let loop = Loop(
            follow: followed, store: store, mappings: mappings, once: true, sink: RecordingSink(),
            control: try TailControl(), onWake: { f in figures.withLock { $0 = f } })
        try #require(loop.finished(within: 300))
        #expect(loop.failure.withLock { $0 } == nil)
        return (loop, figures.withLock { $0 })
    }

    /// Every file of a backlog changed after the wake began (a `cp -al` of the tree: each file's status
    /// changes, no event on its folder): the days' listings leave them all out. Past the limit of paths
    /// looked at again the next wake walks the tree instead of holding a path per file, and every file is
    /// still read, once (before, every one was held as a path looked at on every wake).
    @Test func manyFilesChangedDuringTheWalkAreFoundByAWalkNotHeldOneByOne() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let followed = dir.path + "/in"
        let paths = Self.backlog(of: 30, in: followed, tag: "c")
        let elsewhere = dir.path + "/backup"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        let linkedOnce = Mutex(false)
        let mostLookedAtAgain = Mutex(0)
        let store = dir.path + "/s.db"
        let control = try TailControl()
        let loop = Loop(
            follow: followed, store: store, mappings: Self.mappings(in: dir), once: false, sink: RecordingSink(),
            control: control, pacer: CommitPacer(minimum: 4, maximum: 4),
            onWake: { f in mostLookedAtAgain.withLock { $0 = max($0, f.pathsLookedAtAgain) } },
            beforeReading: {
                // The first wake's walk is done, its days not listed yet: every file gets a second link.
                guard
                    linkedOnce.withLock({
                        let first = !$0; $0 = true; return first
                    })
                else { return }
                for (i, path) in paths.enumerated() { _ = link(path, elsewhere + "/\(i).json.gz") }
            }, lookAgainLimit: 4)
        defer {
            control.requestStop()
            _ = loop.finished(within: 120)
        }
        #expect(Self.wait(120) { (try? Self.rows(store))?["files"] == 30 }, "\((try? Self.rows(store)) ?? [:])")
        #expect(loop.failure.withLock { $0 } == nil)
        #expect(mostLookedAtAgain.withLock { $0 } <= 4)
        #expect(try Self.rows(store)["files"] == 30)
    }

    /// `--poll`: every wake is a walk of the tree. A JSON-lines file in a dated folder appended at every
    /// wake, after the wake began, is left out by every listing of its day (changed since); it is read
    /// all the same, from the paths left out (before, it waited for ever).
    @Test func aFileAppendedAtEveryPollIsRead() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let followed = dir.path + "/in"
        let file = Self.objectPath(followed, day: 1, "0100", "live").replacingOccurrences(of: ".json.gz", with: ".json")
        let appended = Mutex(0)
        @Sendable func line(_ n: Int) -> String {
            #"{"provider":"oci","account_id":"t-1","action":"launch","time":"2026-03-01T01:00:00Z","resource_id":"r-\#(n)","instance_type":"BM.GPU.H100.8","event_id":"e-\#(n)"}"#
                + "\n"
        }
        FileManager.default.createFile(atPath: file, contents: Data(line(0).utf8))
        let control = try TailControl()
        let store = dir.path + "/s.db"
        let loop = Loop(
            follow: followed, store: store, mappings: Self.mappings(in: dir), once: false, sink: RecordingSink(),
            control: control, pollOnly: true,
            beforeReading: {
                // Appended once the wake began, before its day is listed: at every wake.
                let n = appended.withLock {
                    $0 += 1; return $0
                }
                guard let handle = FileHandle(forWritingAtPath: file) else { return }
                handle.seekToEndOfFile()
                handle.write(Data(line(n).utf8))
                try? handle.close()
            })
        defer {
            control.requestStop()
            _ = loop.finished(within: 120)
        }
        #expect(
            Self.wait(120) { (try? Self.rows(store))?["events"] ?? 0 >= 5 },
            "\((try? Self.rows(store)) ?? [:]), \(appended.withLock { $0 }) appended, \(loop.lines.withLock { $0 })")
    }

    /// A store of schema 12 (ledger rows without stamps) migrated to 13: the first `--once` pass knows
    /// each file read by its fingerprint and writes its stamp into the row; the next pass takes no
    /// fingerprint (before, every pass, and every rewalk after an overflow, fingerprinted every file).
    @Test func aSchema12StoresRowsGetTheirStampsOnce() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let followed = dir.path + "/in"
        for i in 0..<3 {
            let path = Self.objectPath(followed, day: 1 + i, "0100", "v\(i)")
            FileManager.default.createFile(atPath: path, contents: Data(Self.trail("i-0v\(i)")))
        }
        let store = dir.path + "/s.db"
        let mappings = Self.mappings(in: dir)
        func pass() throws -> (Loop, TailFollower.WakeFigures?) {
            try Self.oncePass(followed, store: store, mappings: mappings)
        }
        let (first, _) = try pass()
        #expect(first.said("tail stopped: 3 file(s) read"), "\(first.lines.withLock { $0 })")
        // Back to schema 12: the ledger without its stamps, as chiptrail of schema 12 wrote it.
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        try DatabaseQueue(path: store, configuration: configuration).writeWithoutTransaction { db in
            try db.execute(
                sql: """
                    ALTER TABLE files DROP COLUMN modified_ns;
                    ALTER TABLE files DROP COLUMN inode;
                    ALTER TABLE files DROP COLUMN changed_ns;
                    DELETE FROM grdb_migrations WHERE identifier LIKE 'v13%';
                    PRAGMA user_version = 12;
                    """)
        }
        let (second, migrated) = try pass()
        #expect(second.said("tail stopped: 0 file(s) read"), "\(second.lines.withLock { $0 })")
        #expect(migrated?.ledgerFingerprints == 3)
        let (third, stamped) = try pass()
        #expect(third.said("tail stopped: 0 file(s) read"), "\(third.lines.withLock { $0 })")
        #expect(stamped?.ledgerFingerprints == 0)
        #expect(try Self.rows(store)["files"] == 3)
    }

    /// A file rewritten in place with other bytes of the same size, its modification time set back as it
    /// was (`touch -r`, `rsync --inplace -t`): size, modification time and inode are the ledger's, its
    /// status change time is not — it is fingerprinted and read again (before, its stamp matched and it
    /// was taken for the file already read).
    @Test func aFileRewrittenWithItsOldModificationTimeIsReadAgain() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let followed = dir.path + "/in"
        let path = Self.objectPath(followed, day: 1, "0100", "r")
        // Stored, not deflated (gzip level 0): the same length of JSON is the same size of file whatever its
        // bytes (deflated, the random event ids made the size vary, and a search for a rewrite of the same
        // size among 1,000 could come back empty).
        func stored(_ instance: String) -> [UInt8] { TestGzip.compress(Array(Self.trailText(instance).utf8), level: 0) }
        FileManager.default.createFile(atPath: path, contents: Data(stored("i-0aaaa")))
        let store = dir.path + "/s.db"
        let mappings = Self.mappings(in: dir)
        func pass() throws -> Loop {
            let loop = Loop(
                follow: followed, store: store, mappings: mappings, once: true, sink: RecordingSink(),
                control: try TailControl())
            try #require(loop.finished(within: 300))
            #expect(loop.failure.withLock { $0 } == nil)
            return loop
        }
        #expect(try pass().said("tail stopped: 1 file(s) read"))
        var before = stat()
        #expect(stat(path, &before) == 0)
        // Other bytes of the same size.
        let rewritten = stored("i-0bbbb")
        try #require(rewritten.count == Int(before.st_size))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.write(Data(rewritten))
        try handle.close()
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        let again = try pass()
        #expect(again.said("tail stopped: 1 file(s) read"), "\(again.lines.withLock { $0 })")
    }
}
