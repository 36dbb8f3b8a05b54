import Alerting
import Foundation
import GRDB
import Pipeline
import Store
import Synchronization
import TestSupport
import Testing
import UsageModel

@testable import TailService

/// A sink that keeps what it is handed, read from the test's thread while the loop runs on its own.
final class RecordingSink: AlertSink, Sendable {
    private let received = Mutex<[Alert]>([])
    func deliver(_ alert: Alert) { received.withLock { $0.append(alert) } }
    var alerts: [Alert] { received.withLock { $0 } }
}

/// tail's directory loop in process, wired as `chiptrail tail` wires it (Sources/chiptrail/Tail.swift: a
/// store with the sinks' alert text, the pipeline's setup with one reader, stdout's place taken by a
/// recording sink, no `--exec`), over a temporary directory and a real store file.
@Suite struct TailLoopTests {
    static let account = "111122223333"

    /// The loop on a thread of its own (as ``TailService`` runs it), made there; its lines and error kept.
    final class Loop: Sendable {
        let lines = Mutex<[String]>([])
        let failure = Mutex<String?>(nil)
        private let done = DispatchSemaphore(value: 0)

        init(
            follow directory: String, store: String, mappings: String, once: Bool, sink: RecordingSink,
            control: TailControl, onLargeFree: (@Sendable () -> Void)? = nil, largeDecodedBytes: Int64? = nil,
            pacer: CommitPacer? = nil, onWake: (@Sendable (TailFollower.WakeFigures) -> Void)? = nil,
            settle: Double = 30, pollOnly: Bool = false, beforeReading: (@Sendable () -> Void)? = nil,
            lookAgainLimit: Int = 16_384
        ) {
            var settings = TailFollower.Settings(
                paths: [directory], storeName: store, pollInterval: 0.05, pollOnly: pollOnly, settle: settle,
                once: once, quiet: false)
            settings.onLargeFree = onLargeFree
            settings.largeDecodedBytes = largeDecodedBytes
            settings.pacer = pacer
            settings.onWake = onWake
            settings.beforeReading = beforeReading
            settings.lookAgainLimit = lookAgainLimit
            let configured = settings
            let thread = Thread { [self] in
                do {
                    var pipelineSettings = PipelineSettings()
                    pipelineSettings.mappings = [mappings]
                    var setup = try PipelineSetup(pipelineSettings)
                    setup.options.keepCalls = .evidence
                    setup.options.jobs = 1
                    let rendering = AlertRendering(
                        json: { AlertEncoding.json($0) }, ocsf: { LineAlertSink.Style.ocsf.encode($0) })
                    let follower = try TailFollower(
                        settings: configured, store: Store(path: store, command: "tail", rendering: rendering),
                        sink: AlertFanOut([sink]), hook: nil, setup: setup,
                        reporter: TailFollower.Reporter(
                            line: { line in self.lines.withLock { $0.append(line) } },
                            diagnostic: { d in self.lines.withLock { $0.append(d.description) } }, status: { _ in },
                            clearStatus: {}),
                        loadSetup: { [setup] in setup })
                    try follower.run(control: control)
                } catch {
                    failure.withLock { $0 = "\(error)" }
                }
                done.signal()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }

        /// Whether the loop returned within `seconds` (asked again, at once).
        func finished(within seconds: Double) -> Bool {
            guard done.wait(timeout: .now() + seconds) == .success else { return false }
            done.signal()
            return true
        }

        /// Whether a line containing `text` was said.
        func said(_ text: String) -> Bool { lines.withLock { $0.contains { $0.contains(text) } } }
    }

    /// A CloudTrail object as AWS delivers it: `instance` launched at 02:00 on 2026-03-01 by an account
    /// whose end customer is in China, terminated at 03:00, and a call a day later.
    static func trail(_ instance: String) -> [UInt8] { TestGzip.compress(trailText(instance)) }

    /// ``trail(_:)``'s JSON before compression (its event ids are random: its length is not).
    static func trailText(_ instance: String) -> String {
        "{\"Records\":[" + runInstancesRecord(ids: [instance], account: account, time: "2026-03-01T02:00:00Z")
            + ","
            + lifecycleRecord("TerminateInstances", ids: [instance], account: account, time: "2026-03-01T03:00:00Z")
            + "," + cloudTrailRecord(account: account, time: "2026-03-02T02:00:00Z") + "]}"
    }

    /// Lands `bytes` as `name` in `directory`: written beside it, then renamed in (as a sync tool does).
    static func land(_ bytes: [UInt8], as name: String, in directory: String) {
        let staging = directory + "/../.staging-" + name
        FileManager.default.createFile(atPath: staging, contents: Data(bytes))
        rename(staging, directory + "/" + name)
    }

    static func mappings(in dir: TemporaryDirectory) -> String {
        dir.write(
            "m.csv",
            "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\n"
                + "aws,\(account),,C-1,CN,2025-01-01T00:00:00Z,\n")
    }

    /// Rows of the ledger, events, sessions, alerts and outbox, through a connection of its own (which
    /// waits while the store's holds a lock, as the store's own do, instead of failing at once).
    static func rows(_ store: String) throws -> [String: Int] {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: store, configuration: configuration).read { db in
            var rows: [String: Int] = [:]
            for table in ["files", "events", "sessions", "alerts", "outbox"] {
                rows[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? -1
            }
            return rows
        }
    }

    /// Waits up to `seconds` for `condition`.
    static func wait(_ seconds: Double, until condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }

    static let name = "111122223333_CloudTrail_us-east-1_20260301T0405Z_abc.json.gz"

    /// A file landing in a followed directory while the loop waits: one batch commits its ledger row,
    /// events and session with the alert, and the outbox hands the alert to the sink once; a stop request
    /// ends the loop.
    @Test func aLandedFileIsCommittedAndItsAlertDeliveredOnce() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let followed = dir.path + "/in"
        try FileManager.default.createDirectory(atPath: followed, withIntermediateDirectories: true)
        let store = dir.path + "/s.db"
        let sink = RecordingSink()
        let control = try TailControl()
        let loop = Loop(
            follow: followed, store: store, mappings: Self.mappings(in: dir), once: false, sink: sink, control: control)
        defer {
            control.requestStop()
            _ = loop.finished(within: 120)
        }
        try #require(Self.wait(120) { loop.said("tail following") }, "\(loop.lines.withLock { $0 })")
        Self.land(Self.trail("i-0landed"), as: Self.name, in: followed)
        try #require(Self.wait(120) { !sink.alerts.isEmpty }, "\(loop.lines.withLock { $0 })")
        // A few more turns of the loop: nothing is handed over again.
        Thread.sleep(forTimeInterval: 0.5)
        control.requestStop()
        #expect(loop.finished(within: 120))
        #expect(loop.failure.withLock { $0 } == nil)
        #expect(sink.alerts.count == 1)
        #expect(sink.alerts.first?.session.resourceIDs == ["i-0landed"])
        let rows = try Self.rows(store)
        #expect(rows["files"] == 1 && rows["sessions"] == 1 && rows["alerts"] == 1 && rows["outbox"] == 0, "\(rows)")
        #expect((rows["events"] ?? 0) >= 2, "\(rows)")
        #expect(loop.said("tail stopped: 1 file(s) read"), "\(loop.lines.withLock { $0 })")
    }

    /// tail hands free pages back as ingest does (issue 17: it had no hook, and a backlog is ingest's work):
    /// after every so many bytes decoded, here one input's.
    @Test func freePagesAreHandedBackAsTheInputGoes() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let followed = dir.path + "/in"
        try FileManager.default.createDirectory(atPath: followed, withIntermediateDirectories: true)
        for n in 0..<3 {
            Self.land(
                Self.trail("i-0free\(n)"), as: "111122223333_CloudTrail_us-east-1_20260301T040\(n)Z_abc.json.gz",
                in: followed)
        }
        let calls = Mutex(0)
        let pass = Loop(
            follow: followed, store: dir.path + "/s.db", mappings: Self.mappings(in: dir), once: true,
            sink: RecordingSink(), control: try TailControl(), onLargeFree: { calls.withLock { $0 += 1 } },
            largeDecodedBytes: 1)
        try #require(pass.finished(within: 300))
        #expect(pass.failure.withLock { $0 } == nil)
        #expect(calls.withLock { $0 } == 3)
    }

    /// `--once` twice over the same directory and store: the first reads, commits and delivers; the
    /// second finds every file in the ledger and adds and delivers nothing.
    @Test func aSecondPassOverTheSameDirectoryAddsNothing() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let followed = dir.path + "/in"
        try FileManager.default.createDirectory(atPath: followed, withIntermediateDirectories: true)
        Self.land(Self.trail("i-0once"), as: Self.name, in: followed)
        let store = dir.path + "/s.db"
        let mappings = Self.mappings(in: dir)
        let first = RecordingSink()
        let pass = Loop(
            follow: followed, store: store, mappings: mappings, once: true, sink: first, control: try TailControl())
        try #require(pass.finished(within: 300))
        #expect(pass.failure.withLock { $0 } == nil)
        #expect(first.alerts.map(\.session.resourceIDs) == [["i-0once"]])
        let rows = try Self.rows(store)
        #expect(rows["files"] == 1 && rows["sessions"] == 1 && rows["alerts"] == 1 && rows["outbox"] == 0, "\(rows)")
        let second = RecordingSink()
        let again = Loop(
            follow: followed, store: store, mappings: mappings, once: true, sink: second, control: try TailControl())
        try #require(again.finished(within: 300))
        #expect(again.failure.withLock { $0 } == nil)
        #expect(second.alerts.isEmpty)
        #expect(try Self.rows(store) == rows)
        #expect(again.said("tail stopped: 0 file(s) read"), "\(again.lines.withLock { $0 })")
    }
}
