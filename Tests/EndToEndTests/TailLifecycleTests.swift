import Foundation
import TestSupport
import Testing

/// `chiptrail tail` under its service lifecycle: reloads on SIGHUP, graceful shutdown on SIGTERM and
/// SIGINT in the middle of a backlog. Real processes, real signals, a real store.
@Suite(.serialized) struct TailLifecycleTests {
    static let header = "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\n"

    /// A launch of `instance` in `account`, its termination an hour later, and a call at noon (the
    /// event-time frontier passes the session, which is decided with the configuration then in force):
    /// an alert if the account is linked to a restricted country.
    static func launch(_ account: String, _ instance: String, day: Int) -> [UInt8] {
        TestGzip.compress(
            "{\"Records\":[" + runInstancesRecord(ids: [instance], account: account, time: "2026-03-0\(day)T02:00:00Z")
                + ","
                + lifecycleRecord(
                    "TerminateInstances", ids: [instance], account: account, time: "2026-03-0\(day)T03:00:00Z")
                + "," + cloudTrailRecord(account: account, time: "2026-03-0\(day)T12:00:00Z") + "]}")
    }

    /// Waits (up to 30 s) until the file at `path` contains `text` `count` times.
    static func waitUntil(_ path: String, contains text: String, count: Int = 1) {
        for _ in 0..<600 {
            let content = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if content.components(separatedBy: text).count - 1 >= count { return }
            usleep(50_000)
        }
    }

    /// Waits up to `seconds` for `p` to exit; kills it and fails the test if it does not.
    static func waitForExit(_ p: Process, within seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning {
            Issue.record("tail did not exit within \(seconds) s of the signal")
            kill(p.processIdentifier, SIGKILL)
        }
        p.waitUntilExit()
    }

    /// The single number `sql` answers on the store; -1 while the store cannot answer (while polling:
    /// not created yet, or locked), an expectation failure otherwise.
    static func count(_ dir: String, _ sql: String, polling: Bool = false) throws -> Int {
        let r = try BuiltBinary.run(["query", "--store", dir + "/s.db", "--output", "csv", sql])
        if !polling { #expect(r.status == 0, "\(r.stderr)") }
        return r.status == 0 ? Int(r.stdout.split(separator: "\n").last ?? "") ?? -1 : -1
    }

    @Test func aBrokenMappingFileOnSighupKeepsTheOldSetAndSaysSoThenTheFixedFileIsLoaded() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        TailTests.prepare(dir)
        let mappings = dir.path + "/m.csv"
        // At start: A is linked to CN, B to the US.
        FileManager.default.createFile(
            atPath: mappings,
            contents: Data(
                (Self.header
                    + "aws,111111111111,,C-A,CN,2025-01-01T00:00:00Z,\naws,222222222222,,C-B,US,2025-01-01T00:00:00Z,\n")
                    .utf8))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: BuiltBinary.path)
        p.arguments = ["tail", "--store", "s.db", "--poll-interval", "0.05", "--mappings", mappings, "--quiet", "in"]
        p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle(forWritingAtPath: dir.path + "/stderr.txt")!
        try p.run()
        TailTests.waitUntilReady(p)
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: dir.path + "/s.db") { usleep(25_000) }

        // Broken: A moved to the US and B to CN, plus a row with an unknown country. Refused whole.
        FileManager.default.createFile(
            atPath: mappings,
            contents: Data(
                (Self.header
                    + "aws,111111111111,,C-A,US,2025-01-01T00:00:00Z,\naws,222222222222,,C-B,CN,2025-01-01T00:00:00Z,\naws,3,,C,XX,,\n")
                    .utf8))
        kill(p.processIdentifier, SIGHUP)
        Self.waitUntil(dir.path + "/stderr.txt", contains: "reload refused")
        // The old set holds: A's launch alerts, B's does not.
        _ = dir.write("in/a_CloudTrail_us-east-1_20260301T1200Z_a.json.gz", Self.launch("111111111111", "i-a1", day: 1))
        _ = dir.write("in/b_CloudTrail_us-east-1_20260301T1200Z_b.json.gz", Self.launch("222222222222", "i-b1", day: 1))
        try TailTests.waitFor(dir.path, "SELECT COUNT(*) FROM files", "2")

        // Fixed: B is linked to CN now (A stays CN). Loaded.
        FileManager.default.createFile(
            atPath: mappings,
            contents: Data(
                (Self.header
                    + "aws,111111111111,,C-A,CN,2025-01-01T00:00:00Z,\naws,222222222222,,C-B,CN,2025-01-01T00:00:00Z,\n")
                    .utf8))
        kill(p.processIdentifier, SIGHUP)
        Self.waitUntil(
            dir.path + "/stderr.txt", contains: "reloaded mappings, resellers, GeoIP, IP-intelligence and config")
        _ = dir.write("in/b_CloudTrail_us-east-1_20260302T1200Z_b.json.gz", Self.launch("222222222222", "i-b2", day: 2))
        try TailTests.waitFor(dir.path, "SELECT COUNT(*) FROM files", "3")
        kill(p.processIdentifier, SIGTERM)
        Self.waitForExit(p, within: 30)
        #expect(p.terminationStatus == 0)

        let stderr = try String(contentsOfFile: dir.path + "/stderr.txt", encoding: .utf8)
        #expect(stderr.contains("m.csv:4:"), "\(stderr)")
        #expect(
            stderr.contains(
                "reload refused; the previous mappings, resellers, GeoIP, IP-intelligence and config stay in force"),
            "\(stderr)")
        #expect(stderr.components(separatedBy: "reload refused").count == 2, "\(stderr)")
        #expect(stderr.components(separatedBy: "reloaded mappings").count == 2, "\(stderr)")
        // Refused before it was loaded, in that order.
        let refused = try #require(stderr.range(of: "reload refused"))
        let reloaded = try #require(stderr.range(of: "reloaded mappings"))
        #expect(refused.lowerBound < reloaded.lowerBound)
        let lines = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(
            separator: "\n")
        // i-b1 ended under the refused and the old set without an alert; when B alerts under the fixed
        // set it is assessed again (look-back) and alerts too, saying so.
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.filter { $0.contains("\"resource_ids\":[\"i-a1\"]") }.count == 1, "\(lines)")
        #expect(lines.filter { $0.contains("\"resource_ids\":[\"i-b2\"]") }.count == 1, "\(lines)")
        #expect(
            lines.filter { $0.contains("\"resource_ids\":[\"i-b1\"]") && $0.contains("\"kind\":\"lookback\"") }.count
                == 1, "\(lines)")
    }

    /// A backlog of `files` gzip'd objects of `records` calls each, in delivery order, under `in/`.
    static func backlog(_ dir: TemporaryDirectory, files: Int, records: Int) {
        for i in 0..<files {
            let minute = i * 5
            let time = String(format: "2026-03-%02dT%02d:%02d:00Z", 1 + minute / 1440, minute % 1440 / 60, minute % 60)
            let stamp = String(format: "202603%02dT%02d%02dZ", 1 + minute / 1440, minute % 1440 / 60, minute % 60)
            let body = (0..<records).map { n in
                cloudTrailRecord(account: "11111111111\(n % 7)", time: time, ip: "198.51.100.\(n % 250 + 1)")
            }.joined(separator: ",")
            _ = dir.write(
                "in/1_CloudTrail_us-east-1_\(stamp)_\(String(format: "%05d", i)).json.gz",
                TestGzip.compress("{\"Records\":[\(body)]}"))
        }
    }

    /// Waits until the ledger holds a file (the first batch is committed), at most ten seconds.
    static func waitForFirstCommit(_ dir: String) throws {
        var polls = 0
        while try count(dir, "SELECT COUNT(*) FROM files", polling: true) < 1 && polls < 1000 {
            usleep(10_000)
            polls += 1
        }
    }

    /// The number in the stop line, `tail stopped: N file(s) read`.
    static func filesReadInStopLine(_ stderr: String) -> Int? {
        guard let line = stderr.split(separator: "\n").last(where: { $0.contains("tail stopped: ") }),
            let range = line.range(of: "tail stopped: ")
        else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalDuringALongBacklogExitsZeroWithTheLedgerCommittedAndAResumeReadsNothingTwice(signal: Int32) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        TailTests.prepare(dir)
        let files = 2000
        let records = 50
        Self.backlog(dir, files: files, records: records)
        // Not quiet: the stop line says how many files this run read.
        let p = try TailTests.start(dir.path, options: [], pollInterval: nil)
        TailTests.waitUntilReady(p)
        // The first batch is committed; the next is being read.
        try Self.waitForFirstCommit(dir.path)
        kill(p.processIdentifier, signal)
        Self.waitForExit(p, within: 30)
        #expect(p.terminationStatus == 0)
        #expect(p.terminationReason == .exit)

        let stderr = try String(contentsOfFile: dir.path + "/stderr.txt", encoding: .utf8)
        let read = try #require(Self.filesReadInStopLine(stderr), "\(stderr)")
        let committed = try Self.count(dir.path, "SELECT COUNT(*) FROM files")
        // Everything it read is in the ledger, and it stopped in the middle of the backlog.
        #expect(read == committed, "\(stderr)")
        #expect(committed > 0 && committed < files, "\(committed)")
        #expect(try Self.count(dir.path, "SELECT SUM(records) FROM files") == committed * records)
        #expect(!stderr.contains("error"), "\(stderr)")

        // A resumed run reads exactly the rest.
        let resumed = try BuiltBinary.run(
            ["tail", "--once", "--store", "s.db", "in"], directory: dir.path, timeout: 120)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(Self.filesReadInStopLine(resumed.stderr) == files - committed, "\(resumed.stderr)")
        #expect(try Self.count(dir.path, "SELECT COUNT(*) FROM files") == files)
        #expect(try Self.count(dir.path, "SELECT SUM(records) FROM files") == files * records)
    }
}

extension TailLifecycleTests {
    @Test func aReloadAskedForDuringABacklogIsAppliedAtTheNextBatchNotAfterTheBacklog() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        TailTests.prepare(dir)
        let files = 2000
        Self.backlog(dir, files: files, records: 50)
        let mappings = dir.path + "/m.csv"
        FileManager.default.createFile(
            atPath: mappings, contents: Data((Self.header + "aws,111111111110,,C-A,CN,2025-01-01T00:00:00Z,\n").utf8))
        let p = try TailTests.start(dir.path, options: ["--mappings", mappings, "--quiet"], pollInterval: nil)
        TailTests.waitUntilReady(p)
        try Self.waitForFirstCommit(dir.path)
        kill(p.processIdentifier, SIGHUP)
        Self.waitUntil(
            dir.path + "/stderr.txt", contains: "reloaded mappings, resellers, GeoIP, IP-intelligence and config")
        // Said before the batch after it is read: the backlog is not finished.
        let atReload = try Self.count(dir.path, "SELECT COUNT(*) FROM files", polling: true)
        #expect(atReload > 0 && atReload < files, "\(atReload)")
        try TailTests.waitFor(dir.path, "SELECT COUNT(*) FROM files", "\(files)")
        kill(p.processIdentifier, SIGTERM)
        Self.waitForExit(p, within: 30)
        #expect(p.terminationStatus == 0)
        #expect(try Self.count(dir.path, "SELECT COUNT(*) FROM files") == files)
    }
}
