import Foundation
import TestSupport
import Testing

@testable import Alerting
import UsageModel

/// An alert whose text fields carry what a hostile log could put there.
func hostileAlert(account: String = "111122223333") -> Alert {
    Alert(
        id: "a-0123456789abcdef", score: 0.97, severity: .high, provider: .aws, accountID: account,
        resellerID: "RS-HK-001", endCustomerID: nil, jurisdictions: ["CN"],
        session: AlertSession(
            id: "s-1", start: 1_772_330_400, end: 1_772_355_600, open: false, instanceTypes: ["p5.48xlarge"],
            accelerator: "NVIDIA H100 SXM5 80GB", acceleratorCount: 8, acceleratorHours: 56, regions: ["us-east-1"],
            resourceIDs: ["i-0abc"]),
        evidence: [
            Evidence(kind: .resellerChain, detail: "RS-HK-001 is in HK", weight: 6, sources: ["m.csv:2"]),
            Evidence(
                kind: .network, detail: "ua \"curl\"\n<13>1 2026-01-01T00:00:00Z forged chiptrail - alert [x] FORGED",
                weight: 1),
        ],
        eventOrigins: ["trail.json:1:13", "trail.json:1:2048"])
}

@Suite struct OCSFTests {
    /// The attributes OCSF marks required for a Detection Finding (base event, finding, finding_info,
    /// metadata, product), and the ones the issue names: finding_info, evidences, related events.
    @Test func detectionFindingHasTheRequiredAttributes() throws {
        let text = OCSFEncoding.json(hostileAlert(), createdAt: 1_772_400_000, version: "0.1.0")
        #expect(!text.contains("\n"))
        let o = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        for key in [
            "activity_id", "category_uid", "class_uid", "type_uid", "severity_id", "time", "metadata", "finding_info",
        ] {
            #expect(o[key] != nil, "missing \(key)")
        }
        #expect(o["class_uid"] as? Int == 2004)
        #expect(o["category_uid"] as? Int == 2)
        #expect(o["type_uid"] as? Int == 200_401)
        #expect(o["activity_id"] as? Int == 1)
        #expect(o["severity_id"] as? Int == 4)
        #expect(o["time"] as? Int == 1_772_400_000_000)
        let metadata = try #require(o["metadata"] as? [String: Any])
        #expect(metadata["version"] as? String == OCSFEncoding.schemaVersion)
        let product = try #require(metadata["product"] as? [String: Any])
        #expect(product["name"] as? String == "chiptrail" && product["vendor_name"] != nil)
        let info = try #require(o["finding_info"] as? [String: Any])
        #expect(info["uid"] as? String == "a-0123456789abcdef")
        #expect((info["title"] as? String)?.isEmpty == false)
        let related = try #require(info["related_events"] as? [[String: Any]])
        #expect(related.map { $0["uid"] as? String } == ["trail.json:1:13", "trail.json:1:2048"])
        let evidences = try #require(o["evidences"] as? [[String: Any]])
        #expect(evidences.count == 2)
        #expect((evidences[0]["data"] as? [String: Any])?["kind"] as? String == "reseller-chain")
        let resources = try #require(o["resources"] as? [[String: Any]])
        #expect(resources.first?["uid"] as? String == "i-0abc")
        // The SPEC's alert rides along whole.
        #expect((o["unmapped"] as? [String: Any])?["id"] as? String == "a-0123456789abcdef")
    }
}

@Suite struct SyslogFormatTests {
    @Test func messagesAreRFC5424WithStructuredData() {
        let m = SyslogFormat.message(hostileAlert(), time: 1_772_400_000, hostname: "host-1", pid: 42, body: "body")
        // <PRI> = facility 13 (log audit) * 8 + severity 2 (critical) for a high alert.
        #expect(
            m.hasPrefix(
                "<106>1 2026-03-01T21:20:00Z host-1 chiptrail 42 alert [alert@32473 id=\"a-0123456789abcdef\" score=\"0.97\" severity=\"high\""
            ))
        #expect(m.hasSuffix("] body"))
    }

    @Test(arguments: [
        "acct\"] [forged@1 x=\"y",
        "acct\n<13>1 2026-01-01T00:00:00Z h chiptrail - alert - FORGED",
        "acct\\\u{1B}[31m",
    ])
    func logTextCannotForgeRecordsOrParameters(account: String) {
        let body = AlertEncoding.json(hostileAlert(account: account))
        let m = SyslogFormat.message(hostileAlert(account: account), time: 0, hostname: "h", pid: 1, body: body)
        #expect(!m.contains("\n") && !m.contains("\r") && !m.contains("\u{1B}"))
        // Inside the SD element, every quote and bracket from the log is escaped.
        let sd = m[m.firstIndex(of: "[")!...]
        var depth = 0
        var escaped = false
        var inValue = false
        for c in sd {
            if escaped { escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "\"" { inValue.toggle(); continue }
            if inValue { continue }
            if c == "[" { depth += 1 }
            if c == "]" { depth -= 1; break }
        }
        #expect(depth == 0)
        #expect(!inValue)
    }

    @Test(arguments: [
        ("unix:/dev/log", SyslogTarget.unix("/dev/log")),
        ("udp://127.0.0.1:514", .udp(host: "127.0.0.1", port: 514)),
        ("tcp://[::1]:6514", .tcp(host: "::1", port: 6514)),
    ])
    func targetsParse(text: String, target: SyslogTarget) {
        #expect(SyslogTarget(text) == target)
    }

    @Test(arguments: ["syslog://x:1", "udp://host", "tcp://:514", "unix:", "udp://h:99999"])
    func badTargetsAreRefused(text: String) {
        #expect(SyslogTarget(text) == nil)
    }
}

@Suite struct ExecTests {
    @Test(arguments: [
        ("notify --to 'sec ops' \"x\\\"y\"", ["notify", "--to", "sec ops", "x\"y"]),
        ("a\\ b c", ["a b", "c"]),
        ("  spaced   out  ", ["spaced", "out"]),
    ])
    func commandLinesSplitLikeAShellWithoutOne(line: String, words: [String]) {
        #expect(ExecSink.split(line) == words)
    }

    @Test func anUnclosedQuoteIsRefused() {
        #expect(ExecSink.split("notify 'oops") == nil)
    }

    @Test func theAlertGoesOnStdinAndFailuresAreRetriedThenReported() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let out = dir.path + "/got.json"
        // The operator's command; the alert (with hostile text) arrives on stdin only.
        let sink = try #require(ExecSink(command: "tee -a \(out)", timeout: 5))
        sink.deliver(hostileAlert())
        let got = try String(contentsOfFile: out, encoding: .utf8)
        #expect(got == AlertEncoding.json(hostileAlert()) + "\n")

        var errors: [String] = []
        let failing = try #require(
            ExecSink(command: "sh -c 'cat >/dev/null; exit 3'", timeout: 5, attempts: 3, backoff: 0.01))
        failing.onError = { errors.append($0) }
        failing.deliver(hostileAlert())
        #expect(failing.failures == 1)
        #expect(errors.count == 3)
        #expect(errors.last?.contains("exited with status 3") == true)
        #expect(errors.last?.contains("not delivered after 3 tries") == true)

        // A command that reads nothing while a large alert is written: EPIPE, not a SIGPIPE that kills
        // us (nor one left pending, nor a mask left blocking it), and the command's exit status decides.
        let deaf = try #require(ExecSink(command: "true", timeout: 5, attempts: 1))
        deaf.body = { _ in String(repeating: "x", count: 1 << 20) }
        var deafErrors: [String] = []
        deaf.onError = { deafErrors.append($0) }
        deaf.deliver(hostileAlert())
        #expect(deafErrors.isEmpty, "\(deafErrors)")
        var mask = sigset_t()
        var pending = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &mask)
        sigpending(&pending)
        #expect(sigismember(&mask, SIGPIPE) == 0)
        #expect(sigismember(&pending, SIGPIPE) == 0)

        // While a command is being written to, SIGPIPE's disposition (the whole process's: ingest's merge
        // writes stdout meanwhile) is left as it was.
        var own = sigaction()
        own.__sigaction_handler.sa_handler = { _ in }
        var before = sigaction()
        sigaction(SIGPIPE, &own, &before)
        defer { sigaction(SIGPIPE, &before, nil) }
        nonisolated(unsafe) let stalled = try #require(ExecSink(command: "sleep 0.6", timeout: 5, attempts: 1))
        stalled.body = { _ in String(repeating: "x", count: 1 << 20) }
        let written = DispatchSemaphore(value: 0)
        Thread {
            stalled.deliver(hostileAlert())
            written.signal()
        }.start()
        usleep(250_000)
        var during = sigaction()
        sigaction(SIGPIPE, nil, &during)
        written.wait()
        #expect(
            unsafeBitCast(during.__sigaction_handler.sa_handler, to: Int.self)
                == unsafeBitCast(own.__sigaction_handler.sa_handler, to: Int.self))

        // The command starts with SIGPIPE at its default even where this process ignores it (as tail does).
        let status = dir.path + "/status"
        let probe = try #require(ExecSink(command: "sh -c \"grep SigIgn /proc/$$/status > \(status)\"", timeout: 5))
        var ignore = sigaction()
        ignore.__sigaction_handler.sa_handler = SIG_IGN
        var kept = sigaction()
        sigaction(SIGPIPE, &ignore, &kept)
        probe.deliver(hostileAlert())
        sigaction(SIGPIPE, &kept, nil)
        let ignored = try String(contentsOfFile: status, encoding: .utf8).split(separator: "\t").last.map {
            UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16)
        }
        #expect(
            ignored != nil && ignored!! & (1 << (UInt64(SIGPIPE) - 1)) == 0, "SigIgn \(String(describing: ignored))")

        let slow = try #require(ExecSink(command: "sleep 5", timeout: 0.2, attempts: 1))
        var slowErrors: [String] = []
        slow.onError = { slowErrors.append($0) }
        let started = Date()
        slow.deliver(hostileAlert())
        #expect(Date().timeIntervalSince(started) < 2)
        #expect(slowErrors.first?.contains("timed out") == true)
    }
}

extension ExecTests {
    /// A command over its timeout is killed with everything it started: its process group.
    @Test func aTimeoutKillsTheCommandsWholeProcessGroup() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let child = dir.path + "/child"
        let sink = try #require(
            ExecSink(command: "sh -c 'sleep 30 & echo $! > \(child); wait'", timeout: 0.5, attempts: 1))
        var errors: [String] = []
        sink.onError = { errors.append($0) }
        sink.deliver(hostileAlert())
        #expect(errors.first?.contains("timed out") == true, "\(errors)")
        let pid = try #require(
            pid_t(try String(contentsOfFile: child, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // Gone, or a zombie nobody has reaped yet (a container's first process may not reap).
        var alive = true
        for _ in 0..<200 {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            alive = !stat.isEmpty && !stat.contains(") Z ")
            if !alive { break }
            usleep(10_000)
        }
        if alive { kill(pid, SIGKILL) }
        #expect(!alive, "the command's child \(pid) outlived the timeout")
    }

    /// interrupt() from another thread kills the run in hand and ends the retries at once.
    @Test func anInterruptEndsTheRunInHandAndTheRetries() throws {
        nonisolated(unsafe) let sink = try #require(ExecSink(command: "sleep 30", timeout: 60, attempts: 3))
        var errors: [String] = []
        sink.onError = { errors.append($0) }
        let started = Date()
        Thread {
            usleep(300_000)
            sink.interrupt()
        }.start()
        sink.deliver(hostileAlert())
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(errors.isEmpty, "\(errors)")
        #expect(sink.failures == 0)
        #expect(sink.longestDelivery == 60 * 3 + 0.5 + 1.0)
    }
}

/// The built binary sending alerts to a real rsyslog (Debian's package, started here on loopback and a
/// private socket): UDP datagrams, TCP with octet counting, and a unix datagram socket.
@Suite(.serialized) struct RsyslogEndToEndTests {
    /// Whether something listens on the loopback TCP `port`.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    static var rsyslogd: String? {
        ["/usr/sbin/rsyslogd", "/sbin/rsyslogd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(.enabled(if: RsyslogEndToEndTests.rsyslogd != nil, "rsyslogd is not installed (apt-get install rsyslog)"))
    func alertsReachRsyslogOverEveryTransport() throws {
        let rsyslogd = try #require(Self.rsyslogd)
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // Both below Linux's ephemeral range (32768–60999 by default): a TCP port of 30,000–39,999, as before,
        // could be one a connection elsewhere on the machine had been given (a Spark test's, say), and
        // rsyslogd then could not listen there.
        let udp = 20_000 + 2 * Int(getpid() % 5_000)
        let tcp = udp + 1
        let conf = dir.write(
            "rsyslog.conf",
            """
            global(workDirectory="\(dir.path)")
            module(load="imudp")
            module(load="imtcp")
            module(load="imuxsock" SysSock.Use="off")
            input(type="imudp" port="\(udp)" address="127.0.0.1")
            input(type="imtcp" port="\(tcp)" address="127.0.0.1")
            input(type="imuxsock" Socket="\(dir.path)/log.sock" CreatePath="on" UseSpecialParser="off" ParseHostname="on")
            template(name="fields" type="string" string="%app-name%|%procid%|%msgid%|%syslogseverity%|%syslogfacility%|%structured-data%|%msg%\\n")
            *.* action(type="omfile" file="\(dir.path)/out.log" template="fields")
            """)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: rsyslogd)
        daemon.arguments = ["-n", "-f", conf, "-i", dir.path + "/rsyslog.pid"]
        daemon.standardOutput = FileHandle.nullDevice
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        // Wait for its inputs.
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: dir.path + "/log.sock") { usleep(50_000) }
        // Until its TCP port accepts a connection (on a loaded machine a fixed wait was not enough).
        for _ in 0..<200 where !Self.accepts(port: tcp) { usleep(50_000) }
        try #require(Self.accepts(port: tcp), "rsyslogd did not listen on 127.0.0.1:\(tcp) within 10 s")
        usleep(200_000)
        let sample = Repository.root + "/SampleLogs"
        var expected = 0
        // UDP last: a datagram sent before the daemon binds its port is lost without an error.
        for target in ["unix:\(dir.path)/log.sock", "tcp://127.0.0.1:\(tcp)", "udp://127.0.0.1:\(udp)"] {
            let result = try BuiltBinary.run([
                "ingest", "--no-store", "--syslog", target, "--mappings", sample + "/mappings.csv", "--resellers",
                sample + "/resellers.csv", "--geoip", sample + "/geoip.csv", "--config", sample + "/chiptrail.conf",
                sample + "/AWSLogs",
            ])
            #expect(result.status == 0, "\(target): \(result.stderr)")
            #expect(!result.stderr.contains("warning"), "\(target): \(result.stderr)")
            expected += result.stdout.split(separator: "\n").count
        }
        #expect(expected == 12)  // the demo's four alerts over each of three transports
        var lines: [Substring] = []
        for _ in 0..<100 {
            let text = (try? String(contentsOfFile: dir.path + "/out.log", encoding: .utf8)) ?? ""
            // rsyslogd logs its own start too: only chiptrail's records.
            lines = text.split(separator: "\n").filter { $0.hasPrefix("chiptrail|") }
            if lines.count >= expected { break }
            usleep(50_000)
        }
        #expect(lines.count == expected)
        for line in lines {
            let f = line.split(separator: "|", maxSplits: 6, omittingEmptySubsequences: false)
            #expect(f.count == 7)
            guard f.count == 7 else { continue }
            #expect(f[0] == "chiptrail" && f[2] == "alert")
            #expect(f[4] == "13")  // log audit
            #expect(["2", "4", "5"].contains(f[3]))
            #expect(f[5].hasPrefix("[alert@32473 id=\"a-"))
            // The message is the alert's JSON line, parsed whole by rsyslog (octet counting kept TCP frames apart).
            let json =
                try? JSONSerialization.jsonObject(with: Data(f[6].trimmingCharacters(in: .whitespaces).utf8))
                as? [String: Any]
            #expect(json?["type"] as? String == "alert", "\(f[6].prefix(80))")
        }
    }
}
