public import Foundation
import GRDB
public import UsageModel

#if canImport(Glibc)
    import Glibc
#endif

/// A problem with the store: exit status 2, message naming the file and what to do.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): error: [store] \(message)" }
}

/// An exclusive `flock(2)` on the sidecar file `STORE.lock`, which holds the pid and command of its
/// holder. Released when the process ends, however it ends (also `kill -9`): no stale lock to clean.
final class StoreWriterLock {
    let path: String
    private let descriptor: Int32

    init(storePath: String, command: String) throws(StoreError) {
        path = storePath + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw StoreError(
                path: storePath,
                message:
                    "cannot create the writer lock \(path): \(String(cString: strerror(errno)).lowercased()); check the directory's permissions"
            )
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            var holder = [UInt8](repeating: 0, count: 256)
            let n = pread(fd, &holder, holder.count, 0)
            close(fd)
            let text = n > 0 ? String(decoding: holder[0..<n], as: UTF8.self) : ""
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
            let who =
                words.count >= 2
                ? "process \(words[0]) (chiptrail \(words[1]))"
                : words.count == 1 ? "process \(words[0])" : "another process"
            guard code == EWOULDBLOCK else {
                throw StoreError(
                    path: storePath, message: "cannot lock \(path): \(String(cString: strerror(code)).lowercased())")
            }
            throw StoreError(
                path: storePath,
                message:
                    "the store is being written by \(who), which holds \(path); one writer per store: stop it, or use another --store (query, alerts, sessions and explain work meanwhile)"
            )
        }
        let line = "\(getpid()) \(command)\n"
        _ = ftruncate(fd, 0)
        _ = line.withCString { pwrite(fd, $0, strlen($0), 0) }
        descriptor = fd
    }

    deinit { close(descriptor) }
}

/// How the store writes an alert's text: as `--format json` prints it and as its OCSF finding (the
/// `alerts` table's `json` and `ocsf` columns, re-emitted by `chiptrail alerts`). Given by the caller
/// (the encoders live with the sinks), applied when the alert is written, after it is stamped.
public struct AlertRendering: Sendable {
    public var json: @Sendable (Alert) -> String
    public var ocsf: @Sendable (Alert) -> String

    public init(json: @escaping @Sendable (Alert) -> String, ocsf: @escaping @Sendable (Alert) -> String) {
        self.json = json
        self.ocsf = ocsf
    }
}

/// The embedded store: one SQLite file (WAL, mode 0600) with versioned migrations.
///
/// Ingest writes the file ledger, the compute events, every assessed session, alerts with their
/// evidence and the mapping rows they rest on; everything is keyed by stable ids, so reading the
/// same input again adds nothing and raises no alert twice.
public final class Store {
    /// The store `ingest --store`, `tail` and the queries use when none is named.
    public static let defaultPath = "chiptrail.db"

    /// The newest schema this build knows.
    public static let schemaVersion = 14
    public let path: String
    let queue: DatabaseQueue

    /// The exclusive lock on `STORE.lock` held while the store is open for writing: one writer per store.
    private let writerLock: StoreWriterLock?
    /// How alerts are written; a store opened without it writes sessions and rows but no alert.
    let rendering: AlertRendering?
    /// The batch transaction begun last: the next one begins writing once it has ended. Weak: a batch
    /// holds its store, and its writer thread holds it until it has ended.
    weak var lastBatch: BatchTransaction?

    /// Opens (creating with mode 0600 when absent) the store for writing, holding its writer lock.
    /// - Parameters:
    ///   - command: what holds the lock (`ingest`, `tail`), named to a second writer.
    ///   - rendering: how alerts are written; needed to write any (a store opened without it stops the
    ///     process at the first alert: a wiring mistake, not an input's).
    /// - Throws: ``StoreError`` for a store another process writes (naming its pid), a newer schema, a
    ///   locked or unwritable file.
    public init(path: String, command: String = "chiptrail", rendering: AlertRendering? = nil) throws(StoreError) {
        self.path = path
        self.rendering = rendering
        writerLock = try StoreWriterLock(storePath: path, command: command)
        if !FileManager.default.fileExists(atPath: path) {
            let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw StoreError(
                    path: path,
                    message: "cannot create the store: \(String(cString: strerror(errno))); check the directory")
            }
            close(fd)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(2)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            // WAL with synchronous=NORMAL: every commit is atomic and consistent; the last ones may be
            // lost on power failure (not on a crash of the process), and the ledger goes with them.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // 8 MiB of page cache (SQLite's default is 2 MB): the events' indexes take rows in random key
            // order, and with 2 MB a batch's pages were evicted while it was written — spilled into the
            // WAL and read back again and again (1 GB large customer: 1.2 -> 0.75 s of system time). A
            // cache, nothing to do with durability; it costs up to 6 MB more memory while writing.
            try db.execute(sql: "PRAGMA cache_size = -8192")
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try Self.checkVersion(queue, path: path)
            try Self.migrator.migrate(queue)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA user_version = \(Self.schemaVersion)")
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// Opens the store read-only (for `query`, `sessions`, `alerts`, `explain`); works while a writer
    /// holds the lock (WAL readers see the last commit).
    public init(readOnlyPath path: String) throws(StoreError) {
        self.path = path
        writerLock = nil
        rendering = nil
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(path: path, message: "no store here; run 'chiptrail ingest' first or pass --store PATH")
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(2)
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try Self.checkVersion(queue, path: path)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    static func checkVersion(_ queue: DatabaseQueue, path: String) throws {
        let version = try queue.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0 }
        if version > schemaVersion {
            throw StoreError(
                path: path,
                message:
                    "the store has schema version \(version), newer than this chiptrail's \(schemaVersion); use a newer chiptrail or another --store"
            )
        }
    }

    static func describe(_ error: any Error, path: String) -> StoreError {
        if let db = error as? DatabaseError {
            switch db.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                return StoreError(
                    path: path, message: "the store is locked by another process; wait for it or use another --store")
            case .SQLITE_FULL:
                return StoreError(
                    path: path,
                    message:
                        "the disk is full; the batch being written was not recorded (the ledger table lists the files that were); free space and ingest again"
                )
            case .SQLITE_READONLY:
                return StoreError(path: path, message: "the store is read-only here: \(db.message ?? "")")
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                return StoreError(
                    path: path,
                    message: "not a chiptrail store (\(db.message ?? "not a database")); pass another --store")
            default:
                return StoreError(path: path, message: "\(db.message ?? "\(db.resultCode)")")
            }
        }
        return StoreError(path: path, message: "\(error)")
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE files (
                      path TEXT NOT NULL, size INTEGER NOT NULL, fingerprint TEXT NOT NULL,
                      records INTEGER NOT NULL, rejected INTEGER NOT NULL, ingested_at TEXT NOT NULL,
                      PRIMARY KEY (path, fingerprint));
                    CREATE TABLE events (
                      event_id TEXT PRIMARY KEY, provider TEXT NOT NULL, account_id TEXT NOT NULL,
                      resource_id TEXT NOT NULL, action TEXT NOT NULL, time TEXT NOT NULL, instance_type TEXT,
                      instance_count INTEGER NOT NULL, region TEXT, source_ip TEXT, principal TEXT, user_agent TEXT,
                      event_name TEXT NOT NULL, origin TEXT NOT NULL);
                    CREATE INDEX events_account_time ON events(account_id, time);
                    CREATE INDEX events_resource_time ON events(resource_id, time);
                    CREATE TABLE sessions (
                      id TEXT PRIMARY KEY, provider TEXT NOT NULL, account_id TEXT NOT NULL, resource_id TEXT NOT NULL,
                      instance_type TEXT, accelerator TEXT, accelerator_count REAL NOT NULL,
                      accelerator_hours REAL NOT NULL, start TEXT NOT NULL, "end" TEXT NOT NULL, open INTEGER NOT NULL,
                      regions TEXT NOT NULL, restricted INTEGER NOT NULL, score REAL NOT NULL, reseller_id TEXT,
                      end_customer_id TEXT, jurisdictions TEXT NOT NULL);
                    CREATE INDEX sessions_account_start ON sessions(account_id, start);
                    CREATE INDEX sessions_reseller_start ON sessions(reseller_id, start);
                    CREATE TABLE alerts (
                      id TEXT PRIMARY KEY, session_id TEXT NOT NULL, score REAL NOT NULL, severity TEXT NOT NULL,
                      provider TEXT NOT NULL, account_id TEXT NOT NULL, reseller_id TEXT, end_customer_id TEXT,
                      jurisdictions TEXT NOT NULL, start TEXT NOT NULL, "end" TEXT NOT NULL, json TEXT NOT NULL,
                      created_at TEXT NOT NULL);
                    CREATE INDEX alerts_start ON alerts(start);
                    CREATE INDEX alerts_account ON alerts(account_id, start);
                    CREATE TABLE evidence (
                      alert_id TEXT NOT NULL, position INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL,
                      weight REAL NOT NULL, sources TEXT NOT NULL, PRIMARY KEY (alert_id, position));
                    CREATE TABLE mapping_rows (
                      content_hash TEXT PRIMARY KEY, origin TEXT NOT NULL, provider TEXT, account_id TEXT NOT NULL,
                      reseller_id TEXT, end_customer_id TEXT, end_customer_country TEXT, valid_from TEXT, valid_to TEXT,
                      reseller_chain TEXT NOT NULL);
                    CREATE TABLE alert_mappings (
                      alert_id TEXT NOT NULL, content_hash TEXT NOT NULL, PRIMARY KEY (alert_id, content_hash));
                    """)
        }
        migrator.registerMigration("v2: time-window indexes") { db in
            // `--since` compares the end of a session or alert.
            try db.execute(
                sql: """
                    CREATE INDEX alerts_end ON alerts("end");
                    CREATE INDEX sessions_end ON sessions("end");
                    """)
        }
        migrator.registerMigration("v3: calls") { db in
            try db.execute(
                sql: """
                    CREATE TABLE calls (
                      event_key TEXT PRIMARY KEY, account_id TEXT NOT NULL, time TEXT NOT NULL, source_ip TEXT,
                      country TEXT, sign_in INTEGER NOT NULL, restricted INTEGER NOT NULL);
                    CREATE INDEX calls_account_time ON calls(account_id, time);
                    """)
        }
        migrator.registerMigration("v4: billing usage") { db in
            // Billing records (action 'usage') cover [time, time + usage_seconds) and bill usage_hours.
            try db.execute(
                sql: """
                    ALTER TABLE events ADD COLUMN usage_seconds INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE events ADD COLUMN usage_hours REAL NOT NULL DEFAULT 0;
                    """)
        }
        migrator.registerMigration("v5: tail checkpoints") { db in
            // `tail`: the pipeline's live state, saved with each batch; alerts committed but not yet delivered.
            try db.execute(
                sql: """
                    CREATE TABLE checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), state BLOB NOT NULL, saved_at TEXT NOT NULL);
                    CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL, alert BLOB NOT NULL);
                    """)
        }
        migrator.registerMigration("v6: followed files") { db in
            try db.execute(
                sql: "CREATE TABLE follow_offsets (path TEXT PRIMARY KEY, head TEXT NOT NULL, offset INTEGER NOT NULL)")
        }
        migrator.registerMigration("v7: session reseller chains") { db in
            // The ids of the session's reseller chain as `|RS-1|DIST-1|`, so `--reseller` finds the
            // accounts behind a distributor (NULL for sessions written before).
            try db.execute(sql: "ALTER TABLE sessions ADD COLUMN reseller_chain TEXT")
        }
        migrator.registerMigration("v8: alerts as OCSF") { db in
            // The OCSF finding as sent (its time is the commit's), for `alerts --output ocsf`.
            try db.execute(sql: "ALTER TABLE alerts ADD COLUMN ocsf TEXT")
        }
        migrator.registerMigration("v9: followed files' lines") { db in
            // The line ends before the offset, so a resumed read numbers records by the file's own lines
            // (NULL for rows written before: tail counts them in the file once, at its next read).
            try db.execute(sql: "ALTER TABLE follow_offsets ADD COLUMN lines INTEGER DEFAULT NULL")
        }
        migrator.registerMigration("v10: live state as rows") { db in
            // tail's live state, a row per account, open resource, de-duplication chunk and held slice,
            // written when changed in the batch's transaction (the `checkpoint` blob of earlier versions
            // is read once and replaced by these rows). A rowid table with its key in a separate index:
            // in a WITHOUT ROWID table a search compares whole cells, and a chunk's cell (megabytes in
            // overflow pages) was read whole at every comparison (640,000 page reads in a 1 GB backlog).
            try db.execute(
                sql: """
                    CREATE TABLE live_state (part INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
                                             PRIMARY KEY (part, key));
                    CREATE TABLE live_meta (id INTEGER PRIMARY KEY CHECK (id = 1), value BLOB NOT NULL, saved_at TEXT NOT NULL);
                    """)
        }
        migrator.registerMigration("v11: object ledger marks") { db in
            // `tail s3://…`: per followed location, the day before which every dated key was read and its
            // ledger row pruned (keys `…/YYYY/MM/DD/…` dated earlier are not read again).
            try db.execute(
                sql:
                    "CREATE TABLE object_marks (location TEXT PRIMARY KEY, before_day TEXT NOT NULL, saved_at TEXT NOT NULL)"
            )
        }
        migrator.registerMigration("v12: object ledger marks by LastModified") { db in
            // `tail s3://…` of layouts not laid out by day (CUR 2.0, FOCUS): per followed location, the
            // LastModified before which every object was read and its ledger row pruned (objects modified
            // earlier are not read again).
            try db.execute(
                sql: """
                    CREATE TABLE object_modified_marks (location TEXT PRIMARY KEY, modified_before TEXT NOT NULL,
                                                        saved_at TEXT NOT NULL)
                    """)
        }
        migrator.registerMigration("v13: the ledger's file stamps") { db in
            // A local file's modification time (nanoseconds), inode and status change time (nanoseconds)
            // as fingerprinted: `tail` knows a file it read from its stamp, without reading it again
            // (NULL for objects and older rows). The change time catches what the other two miss: a
            // rewrite that keeps size and modification time (`touch -r`, `rsync --inplace -t`, within
            // one clock tick) or a file made again on a reused inode.
            try db.execute(
                sql: """
                    ALTER TABLE files ADD COLUMN modified_ns INTEGER DEFAULT NULL;
                    ALTER TABLE files ADD COLUMN inode INTEGER DEFAULT NULL;
                    ALTER TABLE files ADD COLUMN changed_ns INTEGER DEFAULT NULL;
                    """)
        }
        migrator.registerMigration("v13: the ledger's status change time") { db in
            // Builds between 1457c98 and d07f78a recorded v13 with the first two columns only: their
            // stores get the third here (a store made by v13 as it is now has it already).
            if try !db.columns(in: "files").contains(where: { $0.name == "changed_ns" }) {
                try db.execute(sql: "ALTER TABLE files ADD COLUMN changed_ns INTEGER DEFAULT NULL")
            }
        }
        migrator.registerMigration("v14: closed runs as live-state rows of their own") { _ in
            // No table changes: `tail`'s live state keeps each resource's closed runs in rows of their own
            // (by the hash of the resource's key), which a chiptrail of schema 13 would not read. Rows of
            // schema 13, the runs in the resource's row, are read as they are.
        }
        return migrator
    }

    /// The documented tables and columns (`chiptrail query --schema`).
    public static let schemaDescription = """
        files          the ledger: one row per input read (path, size, fingerprint = hash of size, first and last 64 KiB,
                       or etag:ETAG for s3:// objects, records, rejected, ingested_at, modified_ns, inode
                       and changed_ns (status change time) of a local file as fingerprinted)
        events         compute lifecycle events (event_id, provider, account_id, resource_id, action, time,
                       instance_type, instance_count, region, source_ip, principal, user_agent, event_name,
                       origin = file:line[:column], usage_seconds and usage_hours of billing records
                       whose action is 'usage'); a session's events are those of its account and
                       resource between its start and end
        sessions       every assessed session (id, provider, account_id, resource_id, instance_type, accelerator,
                       accelerator_count, accelerator_hours, start, end, open, regions, restricted, score,
                       reseller_id, end_customer_id, jurisdictions, reseller_chain = the chain's reseller ids
                       as |RS-1|DIST-1|)
        alerts         alerts as emitted (id, session_id, score, severity, provider, account_id, reseller_id,
                       end_customer_id, jurisdictions, start, end, json = the JSON line as sent, created_at,
                       ocsf = the OCSF finding as sent)
        evidence       each contribution to an alert's score (alert_id, position, kind, detail, weight, sources)
        mapping_rows   the mapping rows alerts rest on, as they were (content_hash, origin = file:line, provider,
                       account_id, reseller_id, end_customer_id, end_customer_country, valid_from, valid_to,
                       reseller_chain)
        alert_mappings which mapping rows an alert used (alert_id, content_hash)
        live_state     tail's live state as rows (part, key, value): accounts, open resources, de-duplication
                       chunks, records held for the event-time frontier; written when they change
        object_marks   tail s3://: per followed location (s3://bucket/prefix), the day (YYYY/MM/DD) before which
                       dated keys were read and their ledger rows pruned
        object_modified_marks
                       tail s3://, layouts not laid out by day: per followed location, the LastModified before
                       which every object was read and its ledger row pruned (modified_before, saved_at)
        live_meta      the live state's scalars (watermark, frontier), one row
        checkpoint     the whole live state as one blob, from versions before live_state (read once, then emptied)
        outbox         alerts committed by tail but not yet delivered to stdout and the hooks
        follow_offsets how far tail has read each plain file it follows (path, head = hash of its first
                       line, offset after the last complete record, lines = the line ends before offset)
        calls          calls other than compute events: sign-ins and calls from restricted countries (what the
                       network evidence uses), or every call with `ingest --store-all` (event_key = hash of the
                       event id, account_id, time, source_ip, country, sign_in, restricted)
        Times are RFC 3339 text (UTC), so they sort and compare as text.
        """

    /// How far `tail` has read a plain file it follows; `head` is a hash of its first bytes, so a file
    /// replaced by another is read from the start.
    public struct FollowOffset: Sendable {
        public var path: String
        public var head: String
        public var offset: Int64
        /// The line ends before `offset`: the next read numbers its records from the line after them.
        /// nil for a row written before the store kept it.
        public var lines: Int?

        public init(path: String, head: String, offset: Int64, lines: Int?) {
            self.path = path
            self.head = head
            self.offset = offset
            self.lines = lines
        }
    }

    public func followOffsets() throws(StoreError) -> [String: FollowOffset] {
        do {
            return try queue.read { db in
                var out: [String: FollowOffset] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT path, head, offset, lines FROM follow_offsets") {
                    let o = FollowOffset(
                        path: row["path"], head: row["head"], offset: row["offset"], lines: row["lines"])
                    out[o.path] = o
                }
                return out
            }
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// The live state's rows as the last batch left them: `meta` is nil when none were written (a new
    /// store, or one whose state is still the blob of an earlier version: ``loadCheckpoint()``). `row` is
    /// called for every row, in (part, key) order, as the rows are read (never all in memory).
    public func loadLiveState(row: (Int, Data, Data) throws -> Void) throws -> Data? {
        do {
            return try queue.read { db in
                guard let meta = try Data.fetchOne(db, sql: "SELECT value FROM live_meta WHERE id = 1") else {
                    return nil
                }
                let rows = try Row.fetchCursor(db, sql: "SELECT part, key, value FROM live_state ORDER BY part, key")
                while let r = try rows.next() { try row(r[0], r[1], r[2]) }
                return meta
            }
        } catch let error as DatabaseError {
            throw Self.describe(error, path: path)
        }
    }

    /// The pipeline state the last checkpoint saved (as one blob, before live_state).
    public func loadCheckpoint() throws(StoreError) -> Data? {
        do {
            return try queue.read { db in try Data.fetchOne(db, sql: "SELECT state FROM checkpoint WHERE id = 1") }
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// Alerts committed but not yet delivered, in commit order.
    /// - Parameter seq: only those after this one (the ones not yet handed to the sinks).
    public func outbox(after seq: Int64 = 0) throws(StoreError) -> [(seq: Int64, alert: Alert)] {
        do {
            return try queue.read { db in
                let decoder = JSONDecoder()
                return try Row.fetchAll(
                    db, sql: "SELECT seq, alert FROM outbox WHERE seq > ? ORDER BY seq", arguments: [seq]
                ).map { row in
                    (row["seq"] as Int64, try decoder.decode(Alert.self, from: row["alert"] as Data))
                }
            }
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// How many alerts the outbox holds.
    public func outboxCount() throws(StoreError) -> Int {
        do {
            return try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0 }
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// Removes delivered alerts from the outbox.
    public func delivered(upTo seq: Int64) throws(StoreError) {
        do {
            try queue.write { db in
                try db.cachedStatement(sql: "DELETE FROM outbox WHERE seq <= ?").execute(arguments: [seq])
            }
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// What the ledger says of a local file by its path and stamp (size, modification time, inode,
    /// status change time).
    public enum LedgerMatch: Sendable, Equatable {
        /// No row at this path: not read (``hasRead(path:fingerprint:)`` would say so too).
        case unread
        /// A row at this path with this stamp: read, as it is now.
        case sameStamp
        /// Rows at this path, none with this stamp (or written without one): the fingerprint decides.
        case otherStamp
    }

    /// Whether the ledger has a row for `path`, and one with this stamp: ``LedgerMatch/unread`` and
    /// ``LedgerMatch/sameStamp`` answer without the file's fingerprint (its first and last 64 KiB read).
    public func ledgerMatch(path: String, size: Int64, modified: Int64, inode: Int64, changed: Int64) throws(StoreError)
        -> LedgerMatch
    {
        do {
            return try queue.read { db in
                let rows = try db.cachedStatement(
                    sql: "SELECT size, modified_ns, inode, changed_ns FROM files WHERE path = ?")
                var match = LedgerMatch.unread
                for row in try Row.fetchAll(rows, arguments: [path]) {
                    let m: Int64? = row[1]
                    let i: Int64? = row[2]
                    let c: Int64? = row[3]
                    if row[0] == size, m == modified, i == inode, c == changed { return .sameStamp }
                    match = .otherStamp
                }
                return match
            }
        } catch {
            throw Self.describe(error, path: self.path)
        }
    }

    /// Keeps a local file's stamp in its ledger row, the row with this fingerprint (the file was found
    /// read by it): the next look-up knows the file by its stamp, without its fingerprint (a row written
    /// without a stamp, by schema 12, or with an older one: a file touched, linked, `chmod`-ed).
    public func noteStamp(path: String, fingerprint: String, modified: Int64, inode: Int64, changed: Int64)
        throws(StoreError)
    {
        do {
            try queue.write { db in
                try db.cachedStatement(
                    sql:
                        "UPDATE files SET modified_ns = ?, inode = ?, changed_ns = ? WHERE path = ? AND fingerprint = ?"
                ).execute(arguments: [modified, inode, changed, path, fingerprint])
            }
        } catch {
            throw Self.describe(error, path: self.path)
        }
    }

    /// Whether the ledger has read this file (path and content fingerprint).
    public func hasRead(path: String, fingerprint: String) throws(StoreError) -> Bool {
        do {
            return try queue.read { db in
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS(SELECT 1 FROM files WHERE path = ? AND fingerprint = ?)",
                    arguments: [path, fingerprint]) ?? false
            }
        } catch {
            // The store's path, not the file's: the error is the store's.
            throw Self.describe(error, path: self.path)
        }
    }

    /// Whether an alert with this id is already stored (so it is not emitted again).
    public func hasAlert(_ id: String) throws(StoreError) -> Bool {
        do {
            return try queue.read { db in
                let exists = try db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM alerts WHERE id = ?)")
                return try Bool.fetchOne(exists, arguments: [id]) ?? false
            }
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// One input's ledger row, written with the data it produced.
    public struct FileRecord: Sendable {
        public var path: String
        public var size: Int64
        public var fingerprint: String
        public var records: Int
        public var rejected: Int
        /// A local file's modification time (nanoseconds since the epoch), inode and status change time
        /// (nanoseconds since the epoch) as fingerprinted; nil for objects.
        public var modified: Int64?
        public var inode: Int64?
        public var changed: Int64?

        public init(
            path: String, size: Int64, fingerprint: String, records: Int, rejected: Int, modified: Int64? = nil,
            inode: Int64? = nil, changed: Int64? = nil
        ) {
            self.path = path
            self.size = size
            self.fingerprint = fingerprint
            self.records = records
            self.rejected = rejected
            self.modified = modified
            self.inode = inode
            self.changed = changed
        }
    }

    /// A call as the store keeps it.
    public struct CallRecord: Sendable {
        public var call: CallObservation
        public var accountID: String
        public var restricted: Bool

        public init(call: CallObservation, accountID: String, restricted: Bool) {
            self.call = call
            self.accountID = accountID
            self.restricted = restricted
        }
    }

    /// Writes a batch in one transaction: either all of it is in the store or none — what a
    /// ``BatchTransaction`` writes (the same ``BatchRows``), on the calling thread, for a batch held whole.
    /// With `checkpoint`, the pipeline's live state is saved in the same transaction (`tail`), and the
    /// batch's alerts also go to the outbox, from which they are removed once delivered: a restart
    /// delivers what a crash left there. An alert already in the store is left out.
    /// - Returns: the batch's alerts as committed (stamped with `raisedAt`), to deliver.
    @discardableResult
    public func write(
        files: [FileRecord], events: [UsageEvent], calls: [CallRecord] = [],
        sessions: [StoredSession], checkpoint: LiveStateChanges? = nil, offsets: [FollowOffset] = []
    ) throws(StoreError) -> [Alert] {
        var alerts: [Alert] = []
        do {
            try queue.inTransaction { db in
                var rows = try BatchRows(store: self, db)
                try rows.add(db, files: files, events: events, calls: calls, sessions: sessions)
                if let checkpoint { try rows.addLiveState(db, checkpoint) }
                try rows.finish(db, offsets: offsets, outbox: checkpoint != nil)
                alerts = rows.alerts
                return .commit
            }
            return alerts
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// A batch's ledger rows, events and calls (the bulk of its rows).
    static func writeRows(_ db: Database, files: [FileRecord], events: [UsageEvent], calls: [CallRecord], now: String)
        throws
    {
        for file in files {
            try db.cachedStatement(
                sql:
                    "INSERT OR REPLACE INTO files (path, size, fingerprint, records, rejected, ingested_at, modified_ns, inode, changed_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ).execute(
                arguments: [
                    file.path, file.size, file.fingerprint, file.records, file.rejected, now, file.modified, file.inode,
                    file.changed,
                ])
        }
        // Bound value by value (RowStatement): these are the bulk of the store's rows.
        var insertEvent = try RowStatement(
            db.cachedStatement(
                sql: "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
        for e in events {
            insertEvent.bind(text: e.eventID, at: 1)
            insertEvent.bind(text: e.provider.rawValue, at: 2)
            insertEvent.bind(text: e.accountID, at: 3)
            insertEvent.bind(text: e.resourceID, at: 4)
            insertEvent.bind(text: e.action.rawValue, at: 5)
            insertEvent.bind(time: e.time, at: 6)
            insertEvent.bind(text: e.instanceType, at: 7)
            insertEvent.bind(integer: Int64(e.instanceCount), at: 8)
            insertEvent.bind(text: e.region, at: 9)
            insertEvent.bind(address: e.sourceIP, at: 10)
            insertEvent.bind(text: e.principal, at: 11)
            insertEvent.bind(text: e.userAgent, at: 12)
            insertEvent.bind(text: e.eventName, at: 13)
            insertEvent.bind(origin: e.origin, at: 14)
            insertEvent.bind(integer: e.usageSeconds, at: 15)
            insertEvent.bind(real: e.usageHours, at: 16)
            try insertEvent.step()
        }
        var insertCall = try RowStatement(
            db.cachedStatement(sql: "INSERT OR IGNORE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?)"))
        for c in calls {
            insertCall.bind(text: StableHash.hex(c.call.eventKey), at: 1)
            insertCall.bind(text: c.accountID, at: 2)
            insertCall.bind(time: c.call.time, at: 3)
            insertCall.bind(address: c.call.sourceIP, at: 4)
            insertCall.bind(text: c.call.country.isKnown ? c.call.country.description : nil, at: 5)
            insertCall.bind(integer: c.call.isSignIn ? 1 : 0, at: 6)
            insertCall.bind(integer: c.restricted ? 1 : 0, at: 7)
            try insertCall.step()
        }
    }

    /// Sessions, and the alerts raised on them (already stamped), in order.
    func writeSessions(_ db: Database, _ sessions: [StoredSession], now: String) throws {
        for s in sessions {
            try Self.writeSession(db, s)
            if let alert = s.alert {
                guard let rendering else {
                    preconditionFailure("the store at \(path) was opened without AlertRendering and given an alert")
                }
                try Self.writeAlert(db, alert, s, rendering: rendering, now: now)
            }
        }
    }

    /// Where the reads of followed plain files stopped.
    static func writeOffsets(_ db: Database, _ offsets: [FollowOffset]) throws {
        for o in offsets {
            try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO follow_offsets (path, head, offset, lines) VALUES (?, ?, ?, ?)"
            )
            .execute(arguments: [o.path, o.head, o.offset, o.lines])
        }
    }

    /// Alerts to deliver, removed once delivered (`tail`: a restart delivers what a crash left there).
    static func writeOutbox(_ db: Database, _ alerts: [Alert]) throws {
        let encoder = JSONEncoder()
        for alert in alerts {
            try db.cachedStatement(sql: "INSERT INTO outbox (alert_id, alert) VALUES (?, ?)")
                .execute(arguments: [alert.id, try encoder.encode(alert)])
        }
    }

    /// The rows of the live state that changed, and its scalars.
    /// A piece without scalars (an empty `meta`, a piece of a streamed checkpoint) leaves them as they are.
    static func writeLiveState(_ db: Database, _ changes: LiveStateChanges, now: String, scalars: Bool = true) throws {
        if changes.replacesAll {
            try db.execute(sql: "DELETE FROM live_state; DELETE FROM checkpoint")
        }
        let upsert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO live_state (part, key, value) VALUES (?, ?, ?)")
        let delete = try db.cachedStatement(sql: "DELETE FROM live_state WHERE part = ? AND key = ?")
        for range in changes.droppedRanges {
            try db.cachedStatement(sql: "DELETE FROM live_state WHERE part = ? AND key >= ? AND key < ?")
                .execute(arguments: [range.part, range.from, range.to])
        }
        for row in changes.rows {
            if let value = row.value {
                try upsert.execute(arguments: [row.part, row.key, value])
            } else {
                try delete.execute(arguments: [row.part, row.key])
            }
        }
        guard scalars else { return }
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO live_meta (id, value, saved_at) VALUES (1, ?, ?)")
            .execute(arguments: [changes.meta, now])
    }

    static func writeSession(_ db: Database, _ s: StoredSession) throws {
        for old in s.supersedes {
            // The row written when the session was alerted while it ran, under the id it had then.
            try db.cachedStatement(sql: "DELETE FROM sessions WHERE id = ?").execute(arguments: [old])
            try db.cachedStatement(sql: "UPDATE alerts SET session_id = ? WHERE session_id = ?")
                .execute(arguments: [s.id, old])
        }
        let session = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        try session.execute(arguments: [
            s.id, s.provider.rawValue, s.accountID, s.resourceID, s.instanceType, s.accelerator,
            s.acceleratorCount, s.acceleratorHours, Timestamp.format(s.start), Timestamp.format(s.end), s.open,
            s.regions.joined(separator: ","), s.restricted, s.score, s.mapping?.resellerID,
            s.mapping?.endCustomerID, s.jurisdictions.map(\.description).joined(separator: ","),
            s.chain.isEmpty ? nil : "|" + s.chain.joined(separator: "|") + "|",
        ])
    }

    static func writeAlert(
        _ db: Database, _ alert: Alert, _ s: StoredSession, rendering: AlertRendering, now: String
    ) throws {
        let insertAlert = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        try insertAlert.execute(arguments: [
            alert.id, alert.session.id, alert.score, alert.severity.rawValue, alert.provider.rawValue, alert.accountID,
            alert.resellerID, alert.endCustomerID, alert.jurisdictions.joined(separator: ","),
            Timestamp.format(alert.session.start), Timestamp.format(alert.session.end),
            rendering.json(alert), now, rendering.ocsf(alert),
        ])
        for (i, e) in alert.evidence.enumerated() {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO evidence VALUES (?, ?, ?, ?, ?, ?)").execute(
                arguments: [alert.id, i, e.kind.rawValue, e.detail, e.weight, e.sources.joined(separator: "\n")])
        }
        if let m = s.mapping {
            let chain = m.chain
            let content = [
                m.provider, m.accountID, m.resellerID ?? "", m.endCustomerID ?? "",
                m.endCustomerCountry?.description ?? "", m.validFrom.map(Timestamp.format) ?? "",
                m.validTo.map(Timestamp.format) ?? "", chain,
            ].joined(separator: "|")
            let hash = StableHash.hex(StableHash.hash(content))
            let insertRow = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO mapping_rows VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            try insertRow.execute(arguments: [
                hash, m.origin, m.provider, m.accountID, m.resellerID, m.endCustomerID,
                m.endCustomerCountry?.description, m.validFrom.map(Timestamp.format), m.validTo.map(Timestamp.format),
                chain,
            ])
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO alert_mappings VALUES (?, ?)")
                .execute(arguments: [alert.id, hash])
        }
    }

    /// The day (`YYYY/MM/DD`) before which the dated keys under `location` were read and pruned from the
    /// ledger, if any.
    public func objectMark(location: String) throws(StoreError) -> String? {
        do {
            return try queue.read { db in
                try String.fetchOne(
                    db, sql: "SELECT before_day FROM object_marks WHERE location = ?", arguments: [location])
            }
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// Prunes the ledger rows of objects under `location` (`s3://bucket/prefix`) whose key is dated
    /// (`day(path)`, `YYYY/MM/DD`) before `day`, and records `day` as the location's mark, in one
    /// transaction. Only rows under `location` are touched (local files' rows stay).
    /// - Returns: the rows removed.
    /// - Complexity: O(rows under `location`).
    @discardableResult
    public func pruneObjectLedger(location: String, before day: String, dayOf: (String) -> String?) throws(StoreError)
        -> Int
    {
        do {
            return try queue.write { db in
                let paths = try String.fetchAll(
                    db, sql: "SELECT DISTINCT path FROM files WHERE substr(path, 1, ?) = ?",
                    arguments: [location.unicodeScalars.count, location])
                var removed = 0
                for path in paths {
                    guard let dated = dayOf(path), dated < day else { continue }
                    try db.cachedStatement(sql: "DELETE FROM files WHERE path = ?").execute(arguments: [path])
                    removed += db.changesCount
                }
                try db.execute(
                    sql: "INSERT OR REPLACE INTO object_marks VALUES (?, ?, ?)",
                    arguments: [location, day, Timestamp.format(Timestamp.now())])
                return removed
            }
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// The LastModified before which every object under `location` was read and pruned from the ledger
    /// (layouts not laid out by day), if any.
    public func objectModifiedMark(location: String) throws(StoreError) -> EpochSeconds? {
        do {
            return try queue.read { db in
                try String.fetchOne(
                    db, sql: "SELECT modified_before FROM object_modified_marks WHERE location = ?",
                    arguments: [location]
                ).flatMap(Timestamp.parse)
            }
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// Prunes the ledger rows of objects under `location` (`s3://bucket/prefix`) that `keep` does not
    /// keep (given path and fingerprint), and records `modifiedBefore` as the location's mark, in one
    /// transaction: every object modified before it was read, and a listing skips it. Only rows under
    /// `location` are touched (local files' rows stay).
    /// - Returns: the rows removed.
    /// - Complexity: O(rows under `location`).
    @discardableResult
    public func pruneObjectLedger(
        location: String, modifiedBefore: EpochSeconds, keep: (_ path: String, _ fingerprint: String) -> Bool
    ) throws(StoreError) -> Int {
        do {
            return try queue.write { db in
                let rows = try Row.fetchAll(
                    db, sql: "SELECT path, fingerprint FROM files WHERE substr(path, 1, ?) = ?",
                    arguments: [location.unicodeScalars.count, location])
                var removed = 0
                for row in rows {
                    let path: String = row[0]
                    let fingerprint: String = row[1]
                    guard !keep(path, fingerprint) else { continue }
                    try db.cachedStatement(sql: "DELETE FROM files WHERE path = ? AND fingerprint = ?")
                        .execute(arguments: [path, fingerprint])
                    removed += db.changesCount
                }
                let now = Timestamp.format(Timestamp.now())
                try db.execute(
                    sql: "INSERT OR REPLACE INTO object_modified_marks VALUES (?, ?, ?)",
                    arguments: [location, Timestamp.format(modifiedBefore), now])
                return removed
            }
        } catch {
            throw Self.describe(error, path: path)
        }
    }

    /// Removes events older than `cutoff`; alerts, evidence and sessions stay.
    public func prune(before cutoff: EpochSeconds) throws(StoreError) -> Int {
        do {
            return try queue.write { db in
                try db.execute(sql: "DELETE FROM events WHERE time < ?", arguments: [Timestamp.format(cutoff)])
                return db.changesCount
            }
        } catch {
            throw Self.describe(error, path: path)
        }
    }
}
