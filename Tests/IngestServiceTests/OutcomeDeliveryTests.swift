import Alerting
import Foundation
import GRDB
import IngestService
import Pipeline
import Store
import TestSupport
import Testing
import UsageModel

/// A sink that keeps what it is handed and, with a store, whether the store held each alert by then.
final class RecordingSink: AlertSink {
    let storePath: String?
    private(set) var alerts: [Alert] = []
    /// For each alert, whether its row was committed when it was handed over.
    private(set) var committed: [Bool] = []

    init(storePath: String? = nil) { self.storePath = storePath }

    func deliver(_ alert: Alert) {
        alerts.append(alert)
        if let storePath {
            committed.append((try? IngestScenario.count(storePath, "alerts", where: "id = ?", [alert.id])) == 1)
        }
    }
}

/// What ingest does with each merged input's outcome: alerts to the sinks once committed with a store,
/// at once without; an interrupted run's open batch committed, then delivered; nothing of a failed batch.
@Suite struct OutcomeDeliveryTests {
    static func delivery(
        _ sink: RecordingSink, store: Store?, paths: [String], failures: @escaping (StoreError) -> Void = { _ in }
    ) -> OutcomeDelivery {
        OutcomeDelivery(
            sink: sink, storeWriter: store.map { StoreWriter(store: $0) },
            inputs: InputSequence([.local(paths)], source: nil, report: { _ in }), evidenceLog: nil,
            beforeAlert: {}, report: failures)
    }

    @Test func alertsReachTheSinkOnlyOnceTheirBatchIsCommitted() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (paths, outcomes) = try IngestScenario.runAndCalls(in: dir)
        let expected = IngestScenario.alerts(outcomes)
        try #require(expected.count == 1)
        let store = try IngestScenario.store(in: dir)
        let sink = RecordingSink(storePath: store.path)
        let delivery = Self.delivery(sink, store: store, paths: paths)
        for outcome in outcomes.dropLast() {
            delivery.take(outcome)
            #expect(sink.alerts.isEmpty)
        }
        delivery.take(outcomes[outcomes.count - 1])
        #expect(sink.alerts.map(\.id) == expected.map(\.id))
        #expect(sink.committed == [true])
        #expect(delivery.alertsEmitted == 1)
        #expect(delivery.storeFailure == nil)
    }

    /// `--no-store`: each alert goes to the sink as its input's outcome is taken.
    @Test func withoutAStoreAlertsGoToTheSinkAtOnce() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (paths, outcomes) = try IngestScenario.runAndCalls(in: dir)
        let sink = RecordingSink()
        let delivery = Self.delivery(sink, store: nil, paths: paths)
        for (n, outcome) in outcomes.enumerated() {
            delivery.take(outcome)
            #expect(sink.alerts.map(\.id) == IngestScenario.alerts(outcomes[...n]).map(\.id))
        }
        #expect(delivery.alertsEmitted == 1)
    }

    /// SIGINT after the inputs were merged but before the end: what was merged is committed as a batch,
    /// then its alerts are handed over.
    @Test func anInterruptedRunCommitsWhatWasMergedThenDelivers() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (paths, outcomes) = try IngestScenario.runAndCalls(in: dir)
        let merged = outcomes.dropLast()
        let expected = IngestScenario.alerts(merged)
        try #require(expected.count == 1, "the run's alert is decided while its file is read")
        let store = try IngestScenario.store(in: dir)
        let sink = RecordingSink(storePath: store.path)
        let delivery = Self.delivery(sink, store: store, paths: paths)
        merged.forEach(delivery.take)
        #expect(sink.alerts.isEmpty)
        delivery.commitInterrupted()
        #expect(sink.alerts.map(\.id) == expected.map(\.id))
        #expect(sink.committed == [true])
        #expect(try IngestScenario.count(store.path, "files") == 2)
    }

    /// A batch the store refuses: its alert is not handed over, the failure is told once, and nothing
    /// more is written or handed over.
    @Test func nothingOfAFailedBatchIsDelivered() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let paths = [dir.write("run.json", IngestScenario.run("i-0aaa", day: 1))]
        let outcomes = try IngestScenario.outcomes(paths, mappings: IngestScenario.mappings(in: dir))
        try #require(IngestScenario.alerts(outcomes).count == 1)
        let path = dir.path + "/s.db"
        do { _ = try IngestScenario.store(in: dir) }
        try IngestScenario.connection(path).write { db in
            try db.execute(
                sql:
                    "CREATE TRIGGER refuse BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        }
        let store = try IngestScenario.store(in: dir)
        let sink = RecordingSink(storePath: path)
        var failures: [StoreError] = []
        let delivery = Self.delivery(sink, store: store, paths: paths) { failures.append($0) }
        outcomes.forEach(delivery.take)
        delivery.commitInterrupted()
        #expect(sink.alerts.isEmpty)
        #expect(delivery.alertsEmitted == 0)
        #expect(failures.count == 1)
        #expect(delivery.storeFailure != nil)
        #expect(try IngestScenario.count(path, "files") == 0)
    }
}
