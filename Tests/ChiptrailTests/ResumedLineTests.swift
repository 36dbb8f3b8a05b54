import Foundation
import GRDB
import Testing

@testable import Inputs
@testable import LogFormats
@testable import Ownership
@testable import Pipeline
import UsageModel

/// A followed JSON-lines file read from an offset names its records by the file's own lines.
@Suite struct ResumedLineTests {
    static func eventLine(_ account: String, _ action: String, _ resource: String, hour: Int) -> String {
        #"{"provider":"aws","account_id":"\#(account)","action":"\#(action)","time":"2026-03-01T\#(String(format: "%02d", hour)):00:00Z","resource_id":"\#(resource)","instance_type":"p5.48xlarge","event_id":"e-\#(action)-\#(resource)"}"#
            + "\n"
    }

    @Test(arguments: [1, 7, 64, 4096])
    func aResumedDecoderNumbersRecordsFromTheLineItStartsAt(chunk: Int) {
        let text =
            Self.eventLine("1", "launch", "r-1", hour: 1) + "\n" + Self.eventLine("1", "terminate", "r-1", hour: 2)
        var ndjson = JSONLogDecoder.ndjson(path: "f.ndjson")
        ndjson.resume(afterLines: 4, offset: 900)
        let batch = decode(Array(text.utf8), with: ndjson, chunkSize: chunk)
        #expect(batch.diagnostics.isEmpty, "\(batch.diagnostics)")
        #expect(batch.events.map(\.origin.description) == ["f.ndjson:5", "f.ndjson:7"])

        // CloudTrail, one event per line.
        let trail =
            runInstancesRecord(ids: ["i-1"], account: "123456789012", time: "2026-03-01T02:00:00Z") + "\n"
            + lifecycleRecord("TerminateInstances", ids: ["i-1"], account: "123456789012", time: "2026-03-01T03:00:00Z")
            + "\n"
        var cloudTrail = CloudTrailDecoder(path: "t.json")
        cloudTrail.resume(afterLines: 9, offset: 5000)
        let events = decode(Array(trail.utf8), with: cloudTrail, chunkSize: chunk).events
        #expect(events.map(\.origin.description) == ["t.json:10", "t.json:11"])
    }

    @Test(arguments: [1, 7, 4096])
    func onTheFirstLineAResumedDecoderCountsColumnsFromTheFileStart(chunk: Int) {
        // Records side by side on line 1, the read resumed after 100 bytes of it.
        let first = Self.eventLine("1", "launch", "r-1", hour: 1).dropLast()
        let text = String(first) + " " + Self.eventLine("1", "terminate", "r-1", hour: 2)
        var decoder = JSONLogDecoder.ndjson(path: "f.ndjson")
        decoder.resume(afterLines: 0, offset: 100)
        let batch = decode(Array(text.utf8), with: decoder, chunkSize: chunk)
        #expect(
            batch.events.map(\.origin.description) == ["f.ndjson:1:101", "f.ndjson:1:\(101 + first.utf8.count + 1)"])
    }

    @Test func countsTheLineEndsBeforeAnOffsetThroughAFixedBuffer() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // Lines of varied lengths across several 64 KiB buffers.
        var bytes: [UInt8] = []
        var ends: [Int] = []
        var rng = SplitMix(seed: 18)
        while bytes.count < 300_000 {
            bytes += [UInt8](repeating: 0x61, count: Int(rng.next() % 3000))
            bytes.append(0x0A)
            ends.append(bytes.count)
        }
        let path = dir.write("lines.txt", bytes)
        let reader = try InputReader(path: path)
        for offset in [0, 1, ends[0] - 1, ends[0], 65_535, 65_536, 65_537, 200_001, bytes.count] {
            #expect(reader.newlines(before: Int64(offset)) == ends.filter { $0 <= offset }.count, "offset \(offset)")
        }
        #expect(reader.newlines(before: Int64(bytes.count + 1)) == nil)
        // The read position is where it was: the file is still read from its start.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        defer { buffer.deallocate() }
        #expect(try reader.read(into: buffer) == 4)
        #expect(Array(buffer) == Array(bytes[0..<4]))
    }

    @Test(arguments: [nil, 3] as [Int?])
    func aFollowedReadFromAnOffsetNamesTheFilesLinesAndSaysWhereItStopped(lines: Int?) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let head = (1...3).map { Self.eventLine("1", "launch", "r-\($0)", hour: $0) }.joined()
        let text =
            head + Self.eventLine("1", "terminate", "r-1", hour: 4) + Self.eventLine("1", "terminate", "r-2", hour: 5)
            + String(Self.eventLine("1", "terminate", "r-3", hour: 6).prefix(30))  // still being written
        let path = dir.write("events.ndjson", text)
        let processor = FileProcessor(options: IngestOptions(jobs: 1), geo: GeoIPTable())
        let result = processor.process(path, from: Int64(head.utf8.count), lines: lines, follow: true)
        #expect(result.batch.diagnostics.isEmpty, "\(result.batch.diagnostics)")
        #expect(result.batch.events.map(\.origin.description) == [path + ":4", path + ":5"])
        #expect(result.followedTo == IngestPipeline.FollowedPosition(offset: Int64(text.utf8.count - 30), lines: 5))
    }

    @Test func onlyALineEndAppendedToAFollowedFileIsNothingToReadYet() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // The record was read before its line end was written; then the line end arrives.
        let record = Self.eventLine("1", "launch", "r-1", hour: 1).dropLast()
        let path = dir.write("events.ndjson", String(record) + "\n \n")
        let processor = FileProcessor(options: IngestOptions(jobs: 1), geo: GeoIPTable())
        let result = processor.process(path, from: Int64(record.utf8.count), lines: 0, follow: true)
        #expect(result.batch.diagnostics.isEmpty, "\(result.batch.diagnostics)")
        #expect(!result.failed)
        #expect(result.followedTo == IngestPipeline.FollowedPosition(offset: Int64(record.utf8.count + 3), lines: 2))
    }
}

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
        let line = ResumedLineTests.eventLine
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
