import Foundation
import Pipeline
import Store
import TestSupport
import Testing
import UsageModel

@testable import IngestService

/// ingest's store batches: inputs grouped into transactions, alerts returned only once committed, an
/// alert an earlier run stored not returned again.
@Suite struct StoreWriterTests {
    /// A run and a file of calls: nothing is in the store until the end's outcome commits the batch; then
    /// the ledger has both files, the events and sessions are stored, and the alert is returned.
    @Test func alertsAreReturnedOnlyOnceTheirBatchIsCommitted() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (paths, outcomes) = try IngestScenario.runAndCalls(in: dir)
        try #require(outcomes.count == 3 && outcomes.last?.path == nil)
        let expected = IngestScenario.alerts(outcomes)
        try #require(expected.count == 1)
        let store = try IngestScenario.store(in: dir)
        let writer = StoreWriter(store: store)
        for outcome in outcomes.dropLast() {
            #expect(try Self.add(writer, outcome).isEmpty)
            #expect(try IngestScenario.count(store.path, "files") == 0)
        }
        #expect(try Self.add(writer, outcomes[2]).map(\.id) == expected.map(\.id))
        let sessions = Set(outcomes.flatMap(\.stored).map(\.id))
        #expect(
            try IngestScenario.rows(store.path) == [
                "files": 2, "events": outcomes.reduce(0) { $0 + $1.events.count }, "sessions": sessions.count,
                "alerts": 1,
            ])
        #expect(try IngestScenario.count(store.path, "files", where: "path = ?", [paths[0]]) == 1)
        #expect(try IngestScenario.count(store.path, "alerts", where: "id = ?", [expected[0].id]) == 1)
    }

    /// The same inputs read again (a second `ingest` over the same store): no row is added and the alert,
    /// already stored, is not returned again.
    @Test func anAlertAlreadyStoredIsNotStoredOrReturnedTwice() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let paths = [dir.write("run.json", IngestScenario.run("i-0aaa", day: 1))]
        let outcomes = try IngestScenario.outcomes(paths, mappings: IngestScenario.mappings(in: dir))
        let store = try IngestScenario.store(in: dir)
        let first = StoreWriter(store: store)
        let returned = try outcomes.flatMap { try Self.add(first, $0) }
        #expect(returned.count == 1)
        let rows = try IngestScenario.rows(store.path)
        #expect(rows["alerts"] == 1 && rows["files"] == 1)
        let again = StoreWriter(store: store)
        #expect(try outcomes.flatMap { try Self.add(again, $0) }.isEmpty)
        #expect(try IngestScenario.rows(store.path) == rows)
    }

    /// A batch holds a few dozen inputs: the input that fills it commits it with those before it, while
    /// the next inputs are read (the commit overlaps the reading: it lands without waiting for the end).
    @Test func aFullBatchIsCommittedWithoutWaitingForTheEnd() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let paths = (0...StoreWriter.maxFiles).map { dir.write("calls-\($0).json", IngestScenario.calls($0)) }
        let outcomes = try IngestScenario.outcomes(paths, mappings: IngestScenario.mappings(in: dir))
        let store = try IngestScenario.store(in: dir)
        let writer = StoreWriter(store: store)
        let full = StoreWriter.maxFiles
        for outcome in outcomes.prefix(full - 1) {
            _ = try Self.add(writer, outcome)
            #expect(try IngestScenario.count(store.path, "files") == 0)
        }
        _ = try Self.add(writer, outcomes[full - 1])
        // The full batch commits on its own, before the end's outcome.
        let deadline = MonotonicClock.seconds() + 30
        while try IngestScenario.count(store.path, "files") < full && MonotonicClock.seconds() < deadline {
            usleep(1000)
        }
        #expect(try IngestScenario.count(store.path, "files") == full)
        for outcome in outcomes.dropFirst(full) { _ = try Self.add(writer, outcome) }
        #expect(try IngestScenario.count(store.path, "files") == full + 1)
    }

    /// The alerts `add` hands over (those of the batches committed by then; all of them at the end).
    static func add(_ writer: StoreWriter, _ outcome: FileOutcome) throws -> [Alert] {
        var alerts: [Alert] = []
        try writer.add(outcome) { alerts.append($0) }
        return alerts
    }

    /// An input that failed has no ledger row (the next run reads it again).
    @Test func aFailedInputIsLeftOutOfTheLedger() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.write("a.json", IngestScenario.calls(1))
        var failed = FileOutcome(path: path)
        failed.failed = true
        let store = try IngestScenario.store(in: dir)
        let writer = StoreWriter(store: store)
        #expect(try Self.add(writer, failed).isEmpty)
        #expect(try Self.add(writer, FileOutcome(path: nil)).isEmpty)
        #expect(try IngestScenario.count(store.path, "files") == 0)
    }
}
