import Alerting
import Detection
import Foundation
import GRDB
import Pipeline
import Store
import TestSupport
import UsageModel

/// Inputs for the ingest service's tests: an account whose end customer is in China (the mapping) runs a
/// p5.48xlarge for an hour; a call a day later moves event time past the run, so its one alert is
/// decided while its file is read. Outcomes come from the real pipeline, as `ingest` makes them.
enum IngestScenario {
    static let account = "111122223333"

    /// The mapping file: the account's end customer is in China.
    static func mappings(in dir: TemporaryDirectory) -> String {
        dir.write(
            "m.csv",
            "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\n"
                + "aws,\(account),,C-1,CN,2025-01-01T00:00:00Z,\n")
    }

    /// A CloudTrail object: `instance` launched at 02:00 on 2026-03-0`day`, terminated at 03:00, and a
    /// call a day later.
    static func run(_ instance: String, day: Int) -> String {
        "{\"Records\":["
            + runInstancesRecord(ids: [instance], account: account, time: "2026-03-0\(day)T02:00:00Z") + ","
            + lifecycleRecord(
                "TerminateInstances", ids: [instance], account: account, time: "2026-03-0\(day)T03:00:00Z")
            + "," + cloudTrailRecord(account: account, time: "2026-03-0\(day + 1)T02:00:00Z") + "]}"
    }

    /// A CloudTrail object of one call, no compute.
    static func calls(_ n: Int) -> String {
        "{\"Records\":[" + cloudTrailRecord(account: account, time: "2026-03-01T0\(n % 10):00:00Z") + "]}"
    }

    /// The pipeline's setup with `mappings`, as ingest makes it with a store (one reader).
    static func setup(mappings: String) throws -> PipelineSetup {
        var settings = PipelineSettings()
        settings.mappings = [mappings]
        settings.jobs = 1
        var setup = try PipelineSetup(settings)
        setup.options.keepCalls = .evidence
        return setup
    }

    /// The scenario most tests read: a run of a restricted instance and a file of calls (written into
    /// `dir`), and the outcomes of reading them, in order.
    static func runAndCalls(in dir: TemporaryDirectory) throws -> (paths: [String], outcomes: [FileOutcome]) {
        let paths = [
            dir.write("run.json", run("i-0aaa", day: 1)),
            dir.write("calls.json", calls(4)),
        ]
        return (paths, try outcomes(paths, mappings: mappings(in: dir)))
    }

    /// Every outcome of reading `paths` in order: one per input, then the end's (path nil).
    static func outcomes(_ paths: [String], mappings: String) throws -> [FileOutcome] {
        let setup = try setup(mappings: mappings)
        var outcomes: [FileOutcome] = []
        let pipeline = IngestPipeline(
            options: setup.options, detector: setup.detector, geo: setup.geo, onDiagnostic: { _ in },
            onOutcome: { outcomes.append($0) })
        _ = pipeline.run(inputs: paths)
        return outcomes
    }

    /// The alerts decided in `outcomes`, in order.
    static func alerts(_ outcomes: some Sequence<FileOutcome>) -> [Alert] {
        outcomes.flatMap { $0.decisions.compactMap(\.alert) }
    }

    /// Alert text as the CLI has the store write it.
    static let rendering = AlertRendering(
        json: { AlertEncoding.json($0) }, ocsf: { LineAlertSink.Style.ocsf.encode($0) })

    /// A fresh store in `dir`, as ingest opens it.
    static func store(in dir: TemporaryDirectory) throws -> Store {
        try Store(path: dir.path + "/s.db", command: "ingest", rendering: rendering)
    }

    /// A connection of the test's own to the store at `path`, that waits for the store's while it holds a
    /// lock (as the store's own connections do) instead of failing at once on a busy machine.
    static func connection(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    /// `SELECT COUNT(*)` of `table` (with `condition`) in the store at `path`, through a connection of its own.
    static func count(_ path: String, _ table: String, where condition: String = "1", _ arguments: [String] = [])
        throws -> Int
    {
        try connection(path).read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM \(table) WHERE \(condition)", arguments: StatementArguments(arguments))
                ?? -1
        }
    }

    /// Rows of the ledger, events, sessions and alerts.
    static func rows(_ path: String) throws -> [String: Int] {
        var rows: [String: Int] = [:]
        for table in ["files", "events", "sessions", "alerts"] { rows[table] = try count(path, table) }
        return rows
    }
}
