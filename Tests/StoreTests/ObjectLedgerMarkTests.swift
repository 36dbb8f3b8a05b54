import Foundation
import GRDB
import Store
import TestSupport
import Testing

/// The store's side of `tail s3://…`'s bounded ledger for layouts not laid out by day: the LastModified
/// mark per followed location (schema 12), and pruning to the rows a listing keeps.
@Suite struct ObjectLedgerMarkTests {
    static func row(_ path: String, _ fingerprint: String) -> Store.FileRecord {
        Store.FileRecord(path: path, size: 10, fingerprint: fingerprint, records: 1, rejected: 0)
    }

    static func rows(_ path: String) throws -> [String] {
        try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT path, fingerprint FROM files ORDER BY path, fingerprint").map {
                "\($0[0] as String) \($0[1] as String)"
            }
        }
    }

    @Test func pruningKeepsOnlyTheRowsKeptUnderTheLocationAndRecordsTheMark() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/s.db"
        let location = "s3://billing/cur2/data/"
        do {
            let store = try Store(path: path)
            #expect(try store.objectModifiedMark(location: location) == nil)
            try store.write(
                files: [
                    Self.row(location + "BILLING_PERIOD=2026-10/a.csv.gz", "etag:old"),
                    Self.row(location + "BILLING_PERIOD=2026-11/b.csv.gz", "etag:b1"),
                    // b.csv.gz rewritten: its earlier version's row is not kept.
                    Self.row(location + "BILLING_PERIOD=2026-11/b.csv.gz", "etag:b2"),
                    Self.row("s3://billing/cur2/other/c.csv.gz", "etag:c"),
                    Self.row("/var/log/local.json", "local"),
                ], events: [], sessions: [])
            let removed = try store.pruneObjectLedger(location: location, modifiedBefore: 1_764_000_000) {
                $0 == location + "BILLING_PERIOD=2026-11/b.csv.gz" && $1 == "etag:b2"
            }
            #expect(removed == 2)
            #expect(try store.objectModifiedMark(location: location) == 1_764_000_000)
            #expect(try store.objectModifiedMark(location: "s3://billing/cur2/other/") == nil)
        }
        #expect(
            try Self.rows(path) == [
                "/var/log/local.json local", "s3://billing/cur2/data/BILLING_PERIOD=2026-11/b.csv.gz etag:b2",
                "s3://billing/cur2/other/c.csv.gz etag:c",
            ])
    }

    /// A store as schema 11 left it (tail of an undated layout kept every row) opens, gains the marks
    /// table with its rows intact, and its ledger can then be pruned.
    @Test func aSchema11StoreIsMigratedWithItsLedger() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/s.db"
        let location = "s3://billing/cur2/data/"
        do {
            let store = try Store(path: path)
            try store.write(
                files: (0..<5).map { Self.row(location + "BILLING_PERIOD=2026-11/part-\($0).csv.gz", "etag:\($0)") },
                events: [], sessions: [])
            try store.pruneObjectLedger(location: "s3://trail/AWSLogs/", before: "2026/11/01") { _ in nil }
        }
        // Back to schema 11: no marks by LastModified, and the version chiptrail of schema 11 wrote.
        try DatabaseQueue(path: path).writeWithoutTransaction { db in
            try db.execute(
                sql: """
                    DROP TABLE object_modified_marks;
                    DELETE FROM grdb_migrations WHERE identifier LIKE 'v12%';
                    PRAGMA user_version = 9;
                    """)
        }
        let store = try Store(path: path)
        let version = try DatabaseQueue(path: path).read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") }
        #expect(version == Store.schemaVersion)
        #expect(Store.schemaVersion == 14)
        #expect(try Self.rows(path).count == 5)
        #expect(try store.objectMark(location: "s3://trail/AWSLogs/") == "2026/11/01")
        #expect(try store.objectModifiedMark(location: location) == nil)
        let removed = try store.pruneObjectLedger(location: location, modifiedBefore: 1_764_000_000) { path, _ in
            path.hasSuffix("part-4.csv.gz")
        }
        #expect(removed == 4)
        #expect(try store.objectModifiedMark(location: location) == 1_764_000_000)
    }

    /// A store made by the builds that recorded v13 with two of the ledger's stamp columns (1457c98 to
    /// d07f78a: no `changed_ns`) opens, gains the third with its rows intact, and the ledger knows a file
    /// by its whole stamp (before, the look-up and the ledger's insert failed on the missing column).
    @Test func aStoreOfTheFirstV13GainsTheChangeTime() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/s.db"
        do {
            let store = try Store(path: path)
            try store.write(files: [Self.row("/logs/a.json.gz", "f:a")], events: [], sessions: [])
        }
        try DatabaseQueue(path: path).writeWithoutTransaction { db in
            try db.execute(
                sql: """
                    ALTER TABLE files DROP COLUMN changed_ns;
                    DELETE FROM grdb_migrations WHERE identifier = 'v13: the ledger''s status change time';
                    """)
        }
        let store = try Store(path: path)
        let columns = try DatabaseQueue(path: path).read { db in try db.columns(in: "files").map(\.name) }
        #expect(columns.contains("changed_ns"))
        #expect(try Self.rows(path) == ["/logs/a.json.gz f:a"])
        var stamped = Self.row("/logs/b.json.gz", "f:b")
        (stamped.modified, stamped.inode, stamped.changed) = (7, 11, 13)
        try store.write(files: [stamped], events: [], sessions: [])
        #expect(
            try store.ledgerMatch(path: "/logs/b.json.gz", size: 10, modified: 7, inode: 11, changed: 13) == .sameStamp)
        #expect(
            try store.ledgerMatch(path: "/logs/b.json.gz", size: 10, modified: 7, inode: 11, changed: 14) == .otherStamp
        )
    }
}
