import Foundation
import TestSupport
import Testing
import Alerting
import UsageModel

/// Issue 18: hooks always carry the SPEC's alert JSON, and a hook that cannot run is known at start.
@Suite(.serialized) struct HookPayloadTests {
    /// One input that raises one alert (a declared CN end customer on H100s).
    static func oneAlert(_ dir: TemporaryDirectory) -> [String] {
        let input = dir.write("a.json", runInstancesRecord(ids: ["i-1"], account: "123456789012") + "\n")
        let mappings = dir.write("m.csv", "account_id,end_customer_country\n123456789012,CN\n")
        return ["--mappings", mappings, input]
    }

    @Test func execAndSyslogGetTheAlertJSONWhateverStdoutShows() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let got = dir.path + "/got.json"
        // A UDP syslog receiver on loopback.
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let port = UInt16(bigEndian: address.sin_port)
        for style in ["text", "ocsf"] {
            try? FileManager.default.removeItem(atPath: got)
            let result = try BuiltBinary.run(
                [
                    "ingest", "--no-store", "--alerts", style, "--exec", "tee -a \(got)", "--syslog",
                    "udp://127.0.0.1:\(port)",
                ]
                    + Self.oneAlert(dir), timeout: 60)
            #expect(result.status == 0, "\(result.stderr)")
            let line = try String(contentsOfFile: got, encoding: .utf8).trimmingCharacters(in: .newlines)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(style): \(line)")
            #expect(object["type"] as? String == "alert", "\(style): \(line)")
            #expect(object["account_id"] as? String == "123456789012")
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            #expect(n > 0)
            let message = String(decoding: buffer[0..<max(n, 0)], as: UTF8.self)
            let body = message.drop { $0 != "]" }.dropFirst().drop { $0 == " " }
            let syslogObject = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            #expect(syslogObject?["type"] as? String == "alert", "\(style): \(message)")
        }
    }

    @Test func aMissingExecutableIsAUsageErrorBeforeAnythingIsRead() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let notExecutable = dir.write("plain.txt", "not a program\n")
        chmod(notExecutable, 0o644)
        for command in ["nosuchcmd-chiptrail", dir.path + "/nothing-here", notExecutable] {
            let result = try BuiltBinary.run(
                ["ingest", "--no-store", "--exec", command] + Self.oneAlert(dir), timeout: 60)
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("is not an executable file"), "\(command): \(result.stderr)")
            #expect(result.stdout.isEmpty)
            #expect(!result.stderr.contains("record(s)"))
        }
    }

    @Test func withoutAStoreAFailedHookDoesNotClaimTheAlertIsStored() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let result = try BuiltBinary.run(
            ["ingest", "--no-store", "--exec", "sh -c 'cat >/dev/null; exit 3'"] + Self.oneAlert(dir), timeout: 60)
        #expect(result.stderr.contains("not delivered after 3 tries"), "\(result.stderr)")
        #expect(!result.stderr.contains("it is in the store"), "\(result.stderr)")
        #expect(result.stderr.contains("--no-store keeps nothing"), "\(result.stderr)")
    }
}

/// Issue 19: a slow `--exec` command runs beside ingest's merge, not in it.
@Suite(.serialized) struct QueuedHookTests {
    /// Records what it is given; each delivery waits for `gate` when one is set.
    final class GatedSink: AlertSink, @unchecked Sendable {
        let lock = NSLock()
        var got: [String] = []
        let gate: DispatchSemaphore?
        init(gate: DispatchSemaphore?) { self.gate = gate }
        func deliver(_ alert: Alert) {
            gate?.wait()
            lock.withLock { got.append(alert.id) }
        }
    }

    static func alert(_ n: Int) -> Alert {
        var a = hostileAlert()
        a.id = "a-\(n)"
        return a
    }

    @Test(arguments: [1, 3, 64])
    func alertsReachTheSinkInOrderAndFinishWaitsForThem(capacity: Int) {
        let sink = GatedSink(gate: nil)
        let queued = QueuedAlertSink(sink, capacity: capacity)
        for n in 0..<200 { queued.deliver(Self.alert(n)) }
        queued.finish()
        #expect(sink.got == (0..<200).map { "a-\($0)" })
        // After finish, delivery is on the caller's thread.
        queued.deliver(Self.alert(200))
        #expect(sink.got.count == 201)
    }

    @Test func aCallerAsFarAheadAsTheCapacityWaitsForRoom() {
        let gate = DispatchSemaphore(value: 0)
        let sink = GatedSink(gate: gate)
        let queued = QueuedAlertSink(sink, capacity: 4)
        final class Count: @unchecked Sendable {
            let lock = NSLock()
            var value = 0
        }
        let handed = Count()
        let done = DispatchSemaphore(value: 0)
        let producer = Thread {
            for n in 0..<10 {
                queued.deliver(Self.alert(n))
                handed.lock.withLock { handed.value += 1 }
            }
            done.signal()
        }
        producer.start()
        usleep(300_000)
        // One alert is with the sink (held at the gate), four wait: the sixth deliver waits for room.
        #expect(handed.lock.withLock { handed.value } == 5)
        for _ in 0..<10 { gate.signal() }
        done.wait()
        queued.finish()
        #expect(handed.lock.withLock { handed.value } == 10)
        #expect(sink.got == (0..<10).map { "a-\($0)" })
    }

    /// A sink held at a gate that ``interrupt()`` opens, recording only what it was not interrupted in.
    final class InterruptibleGate: InterruptibleAlertSink, @unchecked Sendable {
        let lock = NSLock()
        var got: [String] = []
        var interrupted = false
        let gate = DispatchSemaphore(value: 0)
        func deliver(_ alert: Alert) {
            if lock.withLock({ interrupted }) { return }
            gate.wait()
            lock.withLock { if !interrupted { got.append(alert.id) } }
        }
        func interrupt() {
            lock.withLock { interrupted = true }
            gate.signal()
        }
    }

    @Test func finishingAtADeadlineInterruptsTheAlertInHandAndDropsTheRest() {
        let sink = InterruptibleGate()
        let queued = QueuedAlertSink(sink, capacity: 8)
        for n in 0..<5 { queued.deliver(Self.alert(n)) }
        // Two go through; the third is held at the gate when the deadline comes.
        sink.gate.signal()
        sink.gate.signal()
        #expect(QueuedHookTests.waitUntil { queued.handedOver == 2 })
        let started = MonotonicClock.seconds()
        #expect(!queued.finish(deadline: started + 0.3))
        #expect(MonotonicClock.seconds() - started < 2)
        #expect(queued.handedOver == 2)
        #expect(sink.got == ["a-0", "a-1"])
        // Nothing is delivered after.
        queued.deliver(Self.alert(5))
        #expect(queued.handedOver == 2)

        let done = QueuedAlertSink(GatedSink(gate: nil))
        for n in 0..<3 { done.deliver(Self.alert(n)) }
        #expect(done.finish(deadline: MonotonicClock.seconds() + 30))
        #expect(done.handedOver == 3)
    }

    static func waitUntil(_ condition: () -> Bool) -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            usleep(10_000)
        }
        return false
    }

    @Test func ingestGoesOnReadingWhileTheCommandRuns() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let accounts = ["111111111111", "222222222222", "333333333333"]
        var inputs: [String] = []
        for (i, account) in accounts.enumerated() {
            inputs.append(dir.write("\(i).json", runInstancesRecord(ids: ["i-\(i)"], account: account) + "\n"))
        }
        let mappings = dir.write("m.csv", "account_id,end_customer_country\n" + accounts.map { "\($0),CN\n" }.joined())
        let out = dir.path + "/out.jsonl", seen = dir.path + "/seen", got = dir.path + "/got.jsonl"
        // Each run of the command waits, then counts the alerts already on ingest's stdout: a command run
        // in the merge would see one (the alert it was given), one run beside it sees all three.
        let hook = "sh -c \"sleep 0.5; wc -l < \(out) >> \(seen); cat >> \(got)\""
        let command = ([BuiltBinary.path, "ingest", "--no-store", "--exec", hook, "--mappings", mappings] + inputs)
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec \(command) > \(out)"]
        let result = try BuiltBinary.collect(process, timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let printed = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(printed.count == 3)
        let counts = try String(contentsOfFile: seen, encoding: .utf8).split(separator: "\n").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        #expect(counts.first == "3", "the first command saw \(counts) alerts on stdout")
        // Every alert reached the command before ingest ended, in stdout's order.
        let delivered = try String(contentsOfFile: got, encoding: .utf8).split(separator: "\n")
        #expect(delivered == printed)
    }
}
