import Foundation
import GRDB
import TestSupport
import Testing

/// `tail` on a growing JSON-lines file, end to end: appended while it runs, after SIGTERM, after
/// `kill -9`, and from a store written before the line was kept.
extension TailTests {
    enum Restart: String, CaseIterable {
        case sigterm, sigkill, olderStore
    }

    @Test(arguments: Restart.allCases)
    func recordsReadAfterAResumeNameTheirOwnLines(restart: Restart) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        Self.prepare(dir)
        let file = dir.path + "/in/events.ndjson"
        func append(_ text: String) { Self.append(text, to: file) }
        let line = ndjsonEventLine
        // 555555555555 is mapped to a US end customer; 111111111111 to CUST-889 in CN.
        FileManager.default.createFile(atPath: file, contents: nil)
        var p = try Self.start(dir.path)
        Self.waitUntilReady(p)
        let third = line("555555555555", "launch", "r-2", 3)
        append(
            line("555555555555", "launch", "r-1", 1) + line("555555555555", "terminate", "r-1", 2)
                + String(third.prefix(25)))
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM events", "2")
        // Appended while it runs, after a line that was still being written.
        append(String(third.dropFirst(25)) + line("555555555555", "terminate", "r-2", 4))
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM events", "4")
        try Self.waitFor(dir.path, "SELECT offset, lines FROM follow_offsets", "\(Self.size(file)),4")
        switch restart {
        case .sigterm, .olderStore:
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        case .sigkill:
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        if restart == .olderStore {
            // The store as schema 8 left it: the offset without its line.
            let queue = try DatabaseQueue(path: dir.path + "/s.db")
            try queue.writeWithoutTransaction { db in
                try db.execute(
                    sql: """
                        ALTER TABLE follow_offsets DROP COLUMN lines;
                        DELETE FROM grdb_migrations WHERE identifier LIKE 'v9%';
                        PRAGMA user_version = 8;
                        """)
            }
        }
        // After the restart: the restricted account's launch on line 5, its line end written apart.
        append(String(line("111111111111", "launch", "r-3", 5).dropLast()))
        p = try Self.start(dir.path)
        Self.waitUntilReady(p)
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM events", "5")
        try Self.waitFor(dir.path, "SELECT offset, lines FROM follow_offsets", "\(Self.size(file)),4")
        append("\n")
        try Self.waitFor(dir.path, "SELECT offset, lines FROM follow_offsets", "\(Self.size(file)),5")
        // A launch seven hours later moves the event-time frontier (newest time less the 6 h lateness)
        // past line 5's: its session is decided.
        append(line("555555555555", "launch", "r-4", 12))
        try Self.waitFor(dir.path, "SELECT offset, lines FROM follow_offsets", "\(Self.size(file)),6")
        for _ in 0..<400
        where (try? String(contentsOfFile: dir.path + "/stdout.txt", encoding: .utf8))?.isEmpty != false {
            usleep(25_000)
        }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)

        let stderr = try String(contentsOfFile: dir.path + "/stderr.txt", encoding: .utf8)
        #expect(!stderr.contains("error:"), "\(stderr)")
        let origins = try BuiltBinary.run([
            "query", "--store", dir.path + "/s.db", "--output", "csv",
            "SELECT event_id, origin FROM events ORDER BY origin",
        ])
        #expect(
            origins.stdout
                == """
                event_id,origin
                e-launch-r-1,in/events.ndjson:1:1
                e-terminate-r-1,in/events.ndjson:2
                e-launch-r-2,in/events.ndjson:3
                e-terminate-r-2,in/events.ndjson:4
                e-launch-r-3,in/events.ndjson:5
                e-launch-r-4,in/events.ndjson:6

                """)
        // The same as ingest reading the whole file at once.
        let whole = try BuiltBinary.run(
            ["ingest", "--store", "whole.db"] + Self.options + ["in/events.ndjson"], directory: dir.path)
        #expect(whole.status == 0, "\(whole.stderr)")
        let wholeOrigins = try BuiltBinary.run([
            "query", "--store", dir.path + "/whole.db", "--output", "csv",
            "SELECT event_id, origin FROM events ORDER BY origin",
        ])
        #expect(wholeOrigins.stdout == origins.stdout)
        // The alert on the restricted launch names it by its line.
        let alerts = try String(contentsOfFile: dir.path + "/stdout.txt", encoding: .utf8).split(separator: "\n")
        #expect(alerts.count == 1, "\(alerts)")
        let alert = try #require(
            try JSONSerialization.jsonObject(with: Data((alerts.first ?? "").utf8)) as? [String: Any])
        #expect(alert["account_id"] as? String == "111111111111")
        #expect(alert["events"] as? [String] == ["in/events.ndjson:5"])
    }

    static func size(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
    }
}
