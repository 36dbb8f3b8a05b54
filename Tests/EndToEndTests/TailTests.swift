import Foundation
import TestSupport
import Testing

@testable import Inputs

/// `chiptrail tail` as a daemon: real processes, real signals, a real store.
@Suite(.serialized) struct TailTests {
    static let sample = Repository.root + "/SampleLogs"
    static var options: [String] {
        [
            "--mappings", sample + "/mappings.csv", "--resellers", sample + "/resellers.csv", "--geoip",
            sample + "/geoip.csv", "--config", sample + "/chiptrail.conf", "--quiet",
        ]
    }

    /// The stream: SampleLogs' files in delivery order, as paths relative to AWSLogs' parent.
    static var stream: [String] {
        InputEnumerator.expand([sample + "/AWSLogs"]).inputs.map { String($0.dropFirst(sample.count + 1)) }
    }

    /// Starts `chiptrail tail` in `directory` on `in/`, stdout and stderr appended to files there.
    /// `options` are SampleLogs' by default; `pollInterval` nil leaves tail's own.
    static func start(
        _ directory: String, options: [String] = options, extra: [String] = [], pollInterval: String? = "0.05",
        environment: [String: String] = [:]
    ) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: BuiltBinary.path)
        p.arguments =
            ["tail", "--store", "s.db"] + (pollInterval.map { ["--poll-interval", $0] } ?? []) + options + extra + [
                "in"
            ]
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = FileHandle(forWritingAtPath: directory + "/stdout.txt")!
        out.seekToEndOfFile()
        let err = FileHandle(forWritingAtPath: directory + "/stderr.txt")!
        err.seekToEndOfFile()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// Waits until the daemon has installed its SIGTERM handler (SigCgt in /proc), so a signal sent
    /// next is handled, not fatal; the machine may be slow (tests run in parallel).
    static func waitUntilReady(_ p: Process) {
        for _ in 0..<400 {
            if let status = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }),
                let mask = UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16), mask & 0x4000 != 0
            {
                return
            }
            usleep(25_000)
        }
    }

    /// Waits (up to 30 s) until `sql` on the store answers `expected` (CSV without the header).
    static func waitFor(_ dir: String, _ sql: String, _ expected: String) throws {
        for _ in 0..<600 {
            let r = try BuiltBinary.run(["query", "--store", dir + "/s.db", "--output", "csv", sql])
            if r.stdout.split(separator: "\n").dropFirst().joined(separator: "\n") == expected { return }
            usleep(50_000)
        }
    }

    static func prepare(_ dir: TemporaryDirectory) {
        try? FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir.path + "/stdout.txt", contents: nil)
        FileManager.default.createFile(atPath: dir.path + "/stderr.txt", contents: nil)
    }

    /// Copies one file of the stream into `in/`; gzip files sometimes in two writes with a pause, as a
    /// slow writer would leave them.
    static func drop(_ relative: String, into dir: String, split: Bool) {
        let data = FileManager.default.contents(atPath: sample + "/" + relative)!
        let target = dir + "/in/" + relative
        try? FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if split && data.count > 64 {
            FileManager.default.createFile(atPath: target, contents: data.prefix(data.count / 2))
            usleep(30_000)
            let h = FileHandle(forWritingAtPath: target)!
            h.seekToEndOfFile()
            h.write(data.suffix(from: data.count / 2))
            try? h.close()
        } else {
            FileManager.default.createFile(atPath: target, contents: data)
        }
    }

    /// Appends `text` to the file at `path`, as a writer of JSON lines does.
    static func append(_ text: String, to path: String) {
        let h = FileHandle(forWritingAtPath: path)!
        h.seekToEndOfFile()
        h.write(Data(text.utf8))
        try? h.close()
    }

    /// The store's contents that must not depend on interruptions (times of writing left out).
    static func contents(_ dir: String) throws -> String {
        var out = ""
        for sql in [
            // A file's stamp (modified_ns, inode) is the copy's in each directory, not its content's.
            "SELECT path, size, fingerprint, records, rejected FROM files ORDER BY path",
            "SELECT * FROM events ORDER BY event_id",
            "SELECT * FROM calls ORDER BY event_key",
            "SELECT * FROM sessions ORDER BY id",
            // Decisions are taken at event-time ticks, so an alert raised while its session runs has the
            // same figures, evidence and JSON whatever the arrival and the kills (only when it was
            // written differs: created_at, and the OCSF finding's time).
            "SELECT id, session_id, score, severity, provider, account_id, reseller_id, end_customer_id, jurisdictions, start, end, json FROM alerts ORDER BY id",
            "SELECT alert_id, position, kind, detail, weight, sources FROM evidence ORDER BY alert_id, position",
            "SELECT * FROM mapping_rows ORDER BY content_hash",
            "SELECT * FROM alert_mappings ORDER BY alert_id, content_hash",
            "SELECT COUNT(*) FROM outbox",
        ] {
            let r = try BuiltBinary.run(["query", "--store", dir + "/s.db", "--output", "csv", sql])
            #expect(r.status == 0, "\(r.stderr)")
            out += r.stdout.replacingOccurrences(
                of: #",\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n"#, with: "\n", options: .regularExpression)
        }
        return out
    }

    static func alertIDs(_ dir: String) throws -> [String] {
        let text = try String(contentsOfFile: dir + "/stdout.txt", encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return o?["id"] as? String ?? "unparsable: \(line.prefix(60))"
        }.sorted()
    }

    /// Runs tail until it has read every file of the stream, then stops it with SIGTERM (exit 0).
    static func finish(_ dir: String) throws {
        let p = try start(dir)
        // SIGTERM before the handlers are installed would end it with the default action.
        waitUntilReady(p)
        let total = stream.count
        for _ in 0..<400 {
            let r = try BuiltBinary.run([
                "query", "--store", dir + "/s.db", "--output", "csv", "SELECT COUNT(*) FROM files",
            ])
            if r.stdout.hasSuffix("\(total)\n") { break }
            usleep(50_000)
        }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    @Test func killedTwentyFiveTimesItEndsExactlyLikeAnUninterruptedRun() throws {
        let files = Self.stream
        #expect(files.count > 50)
        // The uninterrupted run.
        let clean = TemporaryDirectory()
        defer { clean.remove() }
        Self.prepare(clean)
        let daemon = try Self.start(clean.path)
        Self.waitUntilReady(daemon)
        for (i, f) in files.enumerated() { Self.drop(f, into: clean.path, split: i % 7 == 3) }
        usleep(300_000)
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        try Self.finish(clean.path)

        // The same stream, the daemon killed with SIGKILL at random moments and restarted.
        let killed = TemporaryDirectory()
        defer { killed.remove() }
        Self.prepare(killed)
        var rng = SplitMix(seed: 2026)
        var next = 0
        var kills = 0
        while next < files.count || kills < 25 {
            let p = try Self.start(killed.path)
            // Drop a few files while it runs, then kill it somewhere in its work.
            let n = Int(rng.next() % 5)
            for _ in 0..<n where next < files.count {
                Self.drop(files[next], into: killed.path, split: next % 7 == 3)
                next += 1
            }
            usleep(useconds_t(50_000 + rng.next() % 550_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            kills += 1
        }
        // The killed runs did work: more than half the stream is in the ledger before the last run. On a
        // loaded machine a run can be killed before it reads anything, so runs are started and killed
        // again (at most 200 kills in all) until they have; the kills stay at random moments.
        var readBefore = 0
        var ledger = ""
        while true {
            ledger = try BuiltBinary.run([
                "query", "--store", killed.path + "/s.db", "--output", "csv", "SELECT COUNT(*) FROM files",
            ]).stdout
            readBefore = Int(ledger.split(separator: "\n").last ?? "") ?? 0
            if readBefore > files.count / 2 || kills >= 200 { break }
            let p = try Self.start(killed.path)
            usleep(useconds_t(50_000 + rng.next() % 550_000))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            kills += 1
        }
        #expect(readBefore > files.count / 2, "\(ledger)")
        try Self.finish(killed.path)
        #expect(kills >= 25)

        let stderr = try String(contentsOfFile: killed.path + "/stderr.txt", encoding: .utf8)
        #expect(!stderr.contains("error:"), "\(stderr.prefix(2000))")
        let want = try Self.contents(clean.path)
        let got = try Self.contents(killed.path)
        #expect(want.count > 1000)
        #expect(got == want)
        let wantAlerts = try Self.alertIDs(clean.path)
        #expect(wantAlerts.count == 4)
        #expect(try Self.alertIDs(killed.path) == wantAlerts)
    }

    @Test func sigtermDrainsAndExitsZeroAndSighupReloads() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        Self.prepare(dir)
        let p = try Self.start(dir.path)
        Self.waitUntilReady(p)
        kill(p.processIdentifier, SIGHUP)
        for f in Self.stream.prefix(10) { Self.drop(f, into: dir.path, split: false) }
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM files", "10")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let stderr = try String(contentsOfFile: dir.path + "/stderr.txt", encoding: .utf8)
        #expect(stderr.contains("reloaded mappings, resellers, GeoIP, IP-intelligence and config"))
        let r = try BuiltBinary.run([
            "query", "--store", dir.path + "/s.db", "--output", "csv", "SELECT COUNT(*) FROM files",
        ])
        #expect(r.stdout == "COUNT(*)\n10\n")
    }

    @Test func aLateFileThatSortsFirstAndAFileRewrittenInPlaceAreRead() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        Self.prepare(dir)
        let files = Self.stream
        let p = try Self.start(dir.path)
        Self.waitUntilReady(p)
        for f in files[5..<10] { Self.drop(f, into: dir.path, split: false) }
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM files", "5")
        // Late: sorts before everything read so far.
        Self.drop(files[0], into: dir.path, split: false)
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM files", "6")
        // Rewritten in place with other content (the next file's bytes under the same name).
        let target = dir.path + "/in/" + files[5]
        FileManager.default.createFile(
            atPath: target, contents: FileManager.default.contents(atPath: Self.sample + "/" + files[11]))
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM files", "7")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        let r = try BuiltBinary.run([
            "query", "--store", dir.path + "/s.db", "--output", "csv",
            "SELECT COUNT(*), COUNT(DISTINCT path) FROM files",
        ])
        #expect(r.stdout == "COUNT(*),COUNT(DISTINCT path)\n7,6\n")
    }
}

extension TailTests {
    @Test func linesAppendedToAFileAreReadOnceAcrossRestarts() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        Self.prepare(dir)
        func line(_ action: String, _ r: Int, _ hour: Int) -> String {
            #"{"provider":"oci","account_id":"t-1","action":"\#(action)","time":"2026-03-01T\#(String(format: "%02d", hour)):00:00Z","resource_id":"r-\#(r)","instance_type":"BM.GPU.H100.8","event_id":"e-\#(action)-\#(r)"}"#
                + "\n"
        }
        let file = dir.path + "/in/events.ndjson"
        func append(_ text: String) { Self.append(text, to: file) }
        FileManager.default.createFile(atPath: file, contents: nil)
        var p = try Self.start(dir.path)
        Self.waitUntilReady(p)
        let third = line("launch", 2, 3)
        append(line("launch", 1, 1) + line("terminate", 1, 2) + String(third.prefix(20)))  // a line still being written
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM events", "2")
        append(String(third.dropFirst(20)) + line("terminate", 2, 4))
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM events", "4")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        append(line("launch", 3, 5))
        p = try Self.start(dir.path)
        Self.waitUntilReady(p)
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM events", "5")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        let stderr = try String(contentsOfFile: dir.path + "/stderr.txt", encoding: .utf8)
        #expect(!stderr.contains("error:"), "\(stderr)")
        let r = try BuiltBinary.run([
            "query", "--store", dir.path + "/s.db", "--output", "csv", "SELECT event_id FROM events ORDER BY event_id",
        ])
        #expect(r.stdout == "event_id\ne-launch-1\ne-launch-2\ne-launch-3\ne-terminate-1\ne-terminate-2\n")
        let o = try BuiltBinary.run([
            "query", "--store", dir.path + "/s.db", "--output", "csv", "SELECT offset FROM follow_offsets",
        ])
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? -1
        #expect(o.stdout == "offset\n\(size)\n")
    }
}

/// Progress for humans only: on a terminal (a pseudo-terminal made by script(1)) and never otherwise.
@Suite struct ProgressTests {
    @Test(.enabled(if: BuiltBinary.canUseTerminal, "script(1) is not installed (a pseudo-terminal is needed)"))
    func ingestShowsAProgressBarOnATerminalOnly() throws {
        let sample = Repository.root + "/SampleLogs"
        let command =
            "\(BuiltBinary.path) ingest --no-store --mappings \(sample)/mappings.csv \(sample)/AWSLogs >/dev/null"
        let terminal = try BuiltBinary.onTerminal(command)
        #expect(terminal.contains("\r\u{1B}[K["))
        #expect(terminal.contains("/80 files"))
        #expect(terminal.contains("MB/s"))
        // Not a terminal: no bar, no escape sequences, only the summary line.
        let plain = try BuiltBinary.run([
            "ingest", "--no-store", "--mappings", sample + "/mappings.csv", sample + "/AWSLogs",
        ])
        #expect(!plain.stderr.contains("\u{1B}"))
        #expect(plain.stderr.split(separator: "\n").count == 1)
    }
}

extension TailTests {
    @Test func aGzipFileStillBeingWrittenIsReadOnceCompleteAndNotReported() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        Self.prepare(dir)
        let file = Self.stream.first { $0.hasSuffix(".json.gz") && !$0.contains("Digest") }!
        let data = FileManager.default.contents(atPath: Self.sample + "/" + file)!
        let target = dir.path + "/in/" + (file as NSString).lastPathComponent
        let p = try Self.start(dir.path)
        Self.waitUntilReady(p)
        FileManager.default.createFile(atPath: target, contents: data.prefix(data.count / 2))
        usleep(500_000)  // several scans see it incomplete
        let mid = try BuiltBinary.run([
            "query", "--store", dir.path + "/s.db", "--output", "csv", "SELECT COUNT(*) FROM files",
        ])
        #expect(mid.stdout == "COUNT(*)\n0\n")
        let h = FileHandle(forWritingAtPath: target)!
        h.seekToEndOfFile()
        h.write(data.suffix(from: data.count / 2))
        try h.close()
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM files", "1")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        let stderr = try String(contentsOfFile: dir.path + "/stderr.txt", encoding: .utf8)
        #expect(!stderr.contains("error:"), "\(stderr)")
        let r = try BuiltBinary.run([
            "query", "--store", dir.path + "/s.db", "--output", "csv", "SELECT COUNT(*), SUM(records) > 0 FROM files",
        ])
        #expect(r.stdout == "COUNT(*),SUM(records) > 0\n1,1\n")
    }

    @Test func sighupLoadsNewMappingsWithoutLosingState() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        Self.prepare(dir)
        let mappings = dir.path + "/m.csv"
        let header = "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\n"
        // A mapping file must map something (one with no usable row is a configuration error).
        let other = "aws,999999999999,,C-9,US,2025-01-01T00:00:00Z,\n"
        FileManager.default.createFile(atPath: mappings, contents: Data((header + other).utf8))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: BuiltBinary.path)
        p.arguments = ["tail", "--store", "s.db", "--poll-interval", "0.05", "--mappings", mappings, "--quiet", "in"]
        p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        let out = Pipe()
        p.standardOutput = out
        FileManager.default.createFile(atPath: dir.path + "/err.txt", contents: nil)
        p.standardError = FileHandle(forWritingAtPath: dir.path + "/err.txt")!
        try p.run()
        Self.waitUntilReady(p)
        func trail(_ account: String, _ id: String, day: Int) -> [UInt8] {
            let t = "2026-03-0\(day)T02:00:00Z"
            return TestGzip.compress(
                "{\"Records\":[" + runInstancesRecord(ids: [id], account: account, time: t) + ","
                    + lifecycleRecord(
                        "TerminateInstances", ids: [id], account: account, time: "2026-03-0\(day)T03:00:00Z") + ","
                    + cloudTrailRecord(account: account, time: "2026-03-0\(day)T12:00:00Z") + "]}")
        }
        // Before the reload the account is unmapped: no alert.
        _ = dir.write("in/a_CloudTrail_us-east-1_20260301T1200Z_x.json.gz", trail("123456789012", "i-1", day: 1))
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM files", "1")
        FileManager.default.createFile(
            atPath: mappings, contents: Data((header + other + "aws,123456789012,,C-1,CN,2025-01-01T00:00:00Z,\n").utf8)
        )
        kill(p.processIdentifier, SIGHUP)
        for _ in 0..<600 {
            if (try? String(contentsOfFile: dir.path + "/err.txt", encoding: .utf8))?.contains("reloaded") == true {
                break
            }
            usleep(50_000)
        }
        _ = dir.write("in/a_CloudTrail_us-east-1_20260302T1200Z_y.json.gz", trail("123456789012", "i-2", day: 2))
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM files", "2")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let lines = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(
            separator: "\n")
        // i-2 alerts under the new mapping; i-1, which ended before the reload without an alert, is
        // assessed again when its account alerts (look-back) and alerts too, saying so.
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.filter { $0.contains("\"resource_ids\":[\"i-2\"]") }.count == 1, "\(lines)")
        #expect(
            lines.filter { $0.contains("\"resource_ids\":[\"i-1\"]") && $0.contains("\"kind\":\"lookback\"") }.count
                == 1, "\(lines)")
    }

    @Test(arguments: ["missing", "noAccountColumn", "badRow", "badFeed"])
    func aBadReloadIsRefusedWholeAndThePreviousSetStays(kind: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        Self.prepare(dir)
        let mappings = dir.path + "/m.csv"
        let header = "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\n"
        FileManager.default.createFile(
            atPath: mappings, contents: Data((header + "aws,123456789012,,C-1,CN,2025-01-01T00:00:00Z,\n").utf8))
        // An IP-intelligence feed, reloaded with the rest (validated whole as they are).
        let feed = dir.path + "/feed.csv"
        let feedHeader =
            "network,is_anonymous,is_anonymous_vpn,is_hosting_provider,is_public_proxy,is_residential_proxy,is_tor_exit_node\n"
        FileManager.default.createFile(atPath: feed, contents: Data((feedHeader + "10.0.0.0/8,1,1,0,0,0,0\n").utf8))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: BuiltBinary.path)
        p.arguments = [
            "tail", "--store", "s.db", "--poll-interval", "0.05", "--mappings", mappings, "--ip-intel", feed, "--quiet",
            "in",
        ]
        p.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle(forWritingAtPath: dir.path + "/stderr.txt")!
        try p.run()
        Self.waitUntilReady(p)
        // The store is opened after the configuration is loaded: then the files may change.
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: dir.path + "/s.db") { usleep(25_000) }
        switch kind {
        case "missing": try FileManager.default.removeItem(atPath: mappings)
        case "noAccountColumn":
            FileManager.default.createFile(atPath: mappings, contents: Data("provider,account\naws,1\n".utf8))
        case "badFeed":
            FileManager.default.createFile(
                atPath: feed, contents: Data((feedHeader + "10.0.0.0/8,1,1,0,0,0,0\n10.0.0.0/33,1,1,0,0,0,0\n").utf8))
        default:
            // One good row, one bad: the set is not whole, so none of it is taken.
            FileManager.default.createFile(
                atPath: mappings,
                contents: Data((header + "aws,123456789012,,C-1,US,2025-01-01T00:00:00Z,\naws,2,,C,XX,,\n").utf8))
        }
        kill(p.processIdentifier, SIGHUP)
        for _ in 0..<600 {
            if (try? String(contentsOfFile: dir.path + "/stderr.txt", encoding: .utf8))?.contains("reload refused")
                == true
            {
                break
            }
            usleep(50_000)
        }
        // The previous mapping (CN) still holds: the launch alerts.
        let trail = TestGzip.compress(
            "{\"Records\":[" + runInstancesRecord(ids: ["i-1"], account: "123456789012", time: "2026-03-01T02:00:00Z")
                + ","
                // A later call: the event-time frontier (newest time less the 6 h lateness) passes the launch.
                + cloudTrailRecord(account: "123456789012", time: "2026-03-01T08:10:00Z", ip: "198.51.100.9") + "]}")
        _ = dir.write("in/a_CloudTrail_us-east-1_20260301T1200Z_x.json.gz", trail)
        try Self.waitFor(dir.path, "SELECT COUNT(*) FROM files", "1")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let stderr = try String(contentsOfFile: dir.path + "/stderr.txt", encoding: .utf8)
        #expect(
            stderr.contains(
                "reload refused; the previous mappings, resellers, GeoIP, IP-intelligence and config stay in force"),
            "\(stderr)")
        #expect(!stderr.contains("reloaded"), "\(stderr)")
        #expect(!stderr.contains("ExitStatus"), "\(stderr)")
        #expect(
            stderr.contains(kind == "badFeed" ? "feed.csv:3: error: [ipintel] bad network '10.0.0.0/33'" : "m.csv"),
            "\(stderr)")
        let lines = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(
            separator: "\n")
        #expect(lines.count == 1, "\(stderr)")
    }
}
