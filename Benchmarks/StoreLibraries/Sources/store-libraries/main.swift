import Foundation
import GRDB
import SQLiteNIO

// Inserts `rows` rows shaped like chiptrail's events table, in one transaction, with each library,
// into a new WAL file; prints rows per second. Usage: store-libraries [rows]
let rows = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1])! : 200_000
let schema = """
    CREATE TABLE events (event_id TEXT PRIMARY KEY, provider TEXT NOT NULL, account_id TEXT NOT NULL,
      resource_id TEXT NOT NULL, action TEXT NOT NULL, time TEXT NOT NULL, instance_type TEXT,
      instance_count INTEGER NOT NULL, region TEXT, source_ip TEXT, principal TEXT, user_agent TEXT,
      event_name TEXT NOT NULL, origin TEXT NOT NULL);
    CREATE INDEX events_account_time ON events(account_id, time);
    """
let insert = "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

func row(_ i: Int) -> [String] {
    ["e-\(i)-\(i &* 2654435761 % 1_000_003)", "aws", "\(100_000_000_000 + i % 2000)", "i-\(i / 20)", "launch",
     "2026-03-01T02:00:\(i % 60)Z", "p5.48xlarge", "1", "us-east-1", "198.51.100.\(i % 250)",
     "arn:aws:iam::1:role/ops", "aws-cli/2", "RunInstances", "x.json.gz:1:\(i)"]
}

func fresh(_ name: String) -> String {
    let path = NSTemporaryDirectory() + name
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    return path
}

// GRDB: one prepared statement, reused.
do {
    let queue = try DatabaseQueue(path: fresh("grdb.db"))
    try queue.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA journal_mode = WAL")
        try db.execute(sql: "PRAGMA synchronous = NORMAL")
        try db.execute(sql: schema)
    }
    let start = Date()
    try queue.inTransaction { db in
        let statement = try db.makeStatement(sql: insert)
        for i in 0..<rows {
            let r = row(i)
            try statement.execute(arguments: StatementArguments(r.enumerated().map { $0.offset == 7 ? Int($0.element)! as (any DatabaseValueConvertible) : $0.element }))
        }
        return .commit
    }
    let seconds = Date().timeIntervalSince(start)
    print(String(format: "GRDB 7.10       %8.0f rows/s  (%d rows in %.2f s)", Double(rows) / seconds, rows, seconds))
}

// SQLiteNIO: its async API, one statement per call (each runs on its thread pool).
let connection: SQLiteNIO.SQLiteConnection = try await SQLiteNIO.SQLiteConnection.open(storage: .file(path: fresh("nio.db")))
_ = try await connection.query("PRAGMA journal_mode = WAL") as [SQLiteNIO.SQLiteRow]
_ = try await connection.query("PRAGMA synchronous = NORMAL") as [SQLiteNIO.SQLiteRow]
for statement in schema.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
    _ = try await connection.query(String(statement)) as [SQLiteNIO.SQLiteRow]
}
let start = Date()
_ = try await connection.query("BEGIN") as [SQLiteNIO.SQLiteRow]
for i in 0..<rows {
    let r = row(i)
    let binds: [SQLiteNIO.SQLiteData] = r.enumerated().map { $0.offset == 7 ? .integer(Int($0.element)!) : .text($0.element) }
    _ = try await connection.query(insert, binds) as [SQLiteNIO.SQLiteRow]
}
_ = try await connection.query("COMMIT") as [SQLiteNIO.SQLiteRow]
let seconds = Date().timeIntervalSince(start)
print(String(format: "SQLiteNIO 1.13  %8.0f rows/s  (%d rows in %.2f s)", Double(rows) / seconds, rows, seconds))
try await connection.close()
