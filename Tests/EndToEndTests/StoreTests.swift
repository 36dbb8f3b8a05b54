import Foundation
import GRDB
import TestSupport
import Testing

/// The store, through the built binary: idempotent ingest, read-only queries, filters, explain, errors.
@Suite(.serialized) struct StoreTests {
    static func ingest(_ store: String, extra: [String] = []) throws -> BuiltBinary.Result {
        try BuiltBinary.run(
            ["ingest", "--store", store, "--quiet"] + extra + Array(EndToEndTests.sampleArguments().dropFirst(2)))
    }

    @Test func ingestingTheSameFilesAgainAddsNothingAndRaisesNoAlertTwice() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = dir.path + "/c.db"
        let first = try Self.ingest(store)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.split(separator: "\n").count == 4)
        let attributes = try FileManager.default.attributesOfItem(atPath: store)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        func counts() throws -> String {
            try BuiltBinary.run([
                "query", "--store", store, "--output", "csv",
                "SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM events), (SELECT count(*) FROM sessions), (SELECT count(*) FROM alerts), (SELECT count(*) FROM evidence)",
            ]).stdout
        }
        let before = try counts()
        let second = try Self.ingest(store)
        #expect(second.status == 0)
        #expect(second.stdout.isEmpty)
        #expect(try counts() == before)
        #expect(before.contains("80,18,10,4,"))
        let mode = try DatabaseQueue(path: store).read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func callsThatEvidenceUsesAreStoredAndEveryCallWithStoreAll() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        func calls(_ store: String) throws -> [String] {
            try BuiltBinary.run([
                "query", "--store", store, "--output", "csv",
                "SELECT count(*), sum(sign_in), sum(restricted), sum(restricted = 0 AND sign_in = 0) FROM calls",
            ]).stdout.split(separator: "\n").last!.split(separator: ",").map(String.init)
        }
        _ = try Self.ingest(dir.path + "/evidence.db")
        let evidence = try calls(dir.path + "/evidence.db")
        #expect(evidence[3] == "0")  // nothing but sign-ins and restricted-country calls
        #expect(Int(evidence[2])! > 200)  // account 333333333333's calls from CN
        let all = try Self.ingest(dir.path + "/all.db", extra: ["--store-all"])
        #expect(all.status == 0)
        let every = try calls(dir.path + "/all.db")
        #expect(Int(every[0])! > Int(evidence[0])!)
        #expect(every[2] == evidence[2])
        let explain = try BuiltBinary.run(["explain", "--store", dir.path + "/evidence.db", "a-35c3e554a3de3dc9"])
        #expect(explain.stdout.contains("STORED CALLS OF THE ACCOUNT BY SOURCE COUNTRY"))
        #expect(explain.stdout.contains("CN"))
        let conflict = try BuiltBinary.run(["ingest", "--no-store", "--store-all", "x"])
        #expect(conflict.status == 2)
    }

    @Test func queriesAreReadOnlyAndFormatted() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = dir.path + "/c.db"
        _ = try Self.ingest(store)
        let write = try BuiltBinary.run(["query", "--store", store, "DELETE FROM alerts"])
        #expect(write.status == 2)
        #expect(write.stderr.contains("read-only"))
        let json = try BuiltBinary.run([
            "query", "--store", store, "--output", "json",
            "SELECT account_id, count(*) AS n FROM alerts GROUP BY 1 ORDER BY 1",
        ])
        #expect(json.stdout.split(separator: "\n").first == "{\"account_id\":\"111111111111\",\"n\":1}")
        let table = try BuiltBinary.run(["query", "--store", store, "SELECT id FROM alerts"])
        #expect(table.stdout.contains("(4 rows)"))
        let schema = try BuiltBinary.run(["query", "--schema"])
        #expect(schema.stdout.contains("mapping_rows"))
        let bad = try BuiltBinary.run(["query", "--store", store, "SELEKT 1"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("SQL error"))
    }

    @Test func sessionsAndAlertsFilter() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = dir.path + "/c.db"
        _ = try Self.ingest(store)
        func rows(_ args: [String]) throws -> Int {
            let r = try BuiltBinary.run(args + ["--store", store, "--output", "csv"])
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout.split(separator: "\n").count - 1
        }
        #expect(try rows(["sessions"]) == 10)
        #expect(try rows(["sessions", "--restricted-only"]) == 9)
        #expect(try rows(["sessions", "--account", "222222222222"]) == 2)
        #expect(try rows(["alerts", "--reseller", "RS-HK-001"]) == 2)
        // 333333333333's network link is two days old when it alerts: below 0.9.
        #expect(try rows(["alerts", "--min-score", "0.9"]) == 3)
        // Alerts raised while their session ran end where the session stood then.
        #expect(try rows(["alerts", "--since", "2026-03-02T00:00:00Z"]) == 1)
        #expect(try rows(["alerts", "--until", "2026-03-01T06:00:00Z"]) == 2)
        #expect(try rows(["alerts", "--since", "7d"]) == 0)
    }

    @Test func explainShowsEventsMappingRowsAndWeights() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = dir.path + "/c.db"
        _ = try Self.ingest(store)
        let text = try BuiltBinary.run(["explain", "--store", store, "a-e709f1e7d706c955"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("declared-country  9.31"))
        #expect(text.stdout.contains("mappings.csv:3"))
        #expect(text.stdout.contains("_CloudTrail_us-east-1_20260301T0405Z_SMUPZTA4OZPVNX3M.json.gz:1:"))
        #expect(text.stdout.contains("RS-US-003 (US, serves US;CA) at"))
        let json = try BuiltBinary.run(["explain", "--store", store, "--output", "json", "a-e709f1e7d706c955"])
        let object = try #require(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect((object["events"] as? [Any])?.count == 2)
        #expect((object["mapping_rows"] as? [Any])?.count == 1)
        let alert = try #require(object["alert"] as? [String: Any])
        #expect(alert["score"] as? Double == 0.9982)
        // Raised while the session ran (at the first tick after the launch); the session has closed since.
        #expect((alert["session"] as? [String: Any])?["open"] as? Bool == true)
        let summary = try #require(object["summary"] as? [String: Any])
        #expect(summary["end_when_raised"] as? String == "2026-03-01T02:05:00Z")
        #expect(summary["open_when_raised"] as? Int == 1)
        #expect(summary["session_end"] as? String == "2026-03-01T09:00:00Z")
        #expect(summary["session_open"] as? Int == 0)
        #expect(summary["accelerator_hours"] as? Double == 56)
        let missing = try BuiltBinary.run(["explain", "--store", store, "a-nope"])
        #expect(missing.status == 2)
    }

    @Test func pruneRemovesEventsButKeepsAlerts() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = dir.path + "/c.db"
        _ = try Self.ingest(store)
        let pruned = try BuiltBinary.run(["prune", "--store", store, "--older-than", "90d"])
        #expect(pruned.stdout == "removed 18 event(s)\n")
        let explain = try BuiltBinary.run(["explain", "--store", store, "a-e709f1e7d706c955"])
        #expect(explain.status == 0)
        #expect(explain.stdout.contains("declared-country"))
    }

    @Test func aNewerSchemaIsRefused() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = dir.path + "/c.db"
        try DatabaseQueue(path: store).writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = 99") }
        let result = try Self.ingest(store)
        #expect(result.status == 2)
        #expect(result.stderr.contains("schema version 99, newer than"))
        let query = try BuiltBinary.run(["alerts", "--store", store])
        #expect(query.status == 2)
    }

    @Test func aLockedStoreIsAClearError() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = dir.path + "/c.db"
        _ = try Self.ingest(store)
        // Another process holds an exclusive lock (python3's sqlite3, as any other SQLite client would).
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = [
            "python3", "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(8)",
            store,
        ]
        let pipe = Pipe()
        holder.standardOutput = pipe
        try holder.run()
        _ = pipe.fileHandleForReading.availableData  // waits for "locked"
        let result = try Self.ingest(store)
        holder.terminate()
        holder.waitUntilExit()
        #expect(result.status == 2)
        #expect(result.stderr.contains("locked by another process"))
    }

    @Test func aFileThatIsNoStoreIsRefused() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = dir.write("not.db", String(repeating: "not sqlite ", count: 100))
        let result = try Self.ingest(store)
        #expect(result.status == 2)
        #expect(result.stderr.contains("not a chiptrail store"))
    }
}

/// A full disk, simulated with a small tmpfs (needs root to mount; skipped where mounting is refused).
@Suite(.serialized) struct FullDiskTests {
    static let mountPoint = NSTemporaryDirectory() + "chiptrail-full-disk"

    static func mount(size: String) -> Bool {
        try? FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/mount")
        p.arguments = ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", mountPoint]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    static func unmount() {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/umount")
        p.arguments = [mountPoint]
        try? p.run()
        p.waitUntilExit()
    }

    static let canMount: Bool = {
        let ok = mount(size: "64k")
        if ok { unmount() }
        return ok
    }()

    @Test(.enabled(if: canMount, "mounting a tmpfs needs root")) func aFullDiskIsAClearErrorAndNothingIsHalfWritten()
        throws
    {
        #expect(Self.mount(size: "200k"))
        defer { Self.unmount() }
        let store = Self.mountPoint + "/c.db"
        let result = try StoreTests.ingest(store)
        #expect(result.status == 2)
        #expect(result.stderr.contains("the disk is full"))
        // What the ledger lists came with its data, and nothing else did.
        let counts = try BuiltBinary.run([
            "query", "--store", store, "--output", "csv",
            "SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM events), (SELECT count(*) FROM alerts)",
        ])
        #expect(counts.status == 0, "\(counts.stderr)")
        let values = counts.stdout.split(separator: "\n").last?.split(separator: ",").map(String.init) ?? []
        #expect(values.count == 3)
        if values.first == "0" { #expect(values == ["0", "0", "0"]) }
        #expect(!result.stdout.contains("\"type\":\"alert\"") || values.last != "0")
    }
}
