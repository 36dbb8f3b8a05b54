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
        let paths = [
            dir.write("run.json", IngestScenario.run("i-0aaa", day: 1)),
            dir.write("calls.json", IngestScenario.calls(4)),
        ]
        let outcomes = try IngestScenario.outcomes(paths, mappings: IngestScenario.mappings(in: dir))
        try #require(outcomes.count == 3 && outcomes.last?.path == nil)
        let expected = IngestScenario.alerts(outcomes)
        try #require(expected.count == 1)
        let store = try IngestScenario.store(in: dir)
        let writer = StoreWriter(store: store)
        for outcome in outcomes.dropLast() {
            #expect(try writer.add(outcome).isEmpty)
            #expect(try IngestScenario.count(store.path, "files") == 0)
        }
        #expect(try writer.add(outcomes[2]).map(\.id) == expected.map(\.id))
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
        let returned = try outcomes.flatMap { try first.add($0) }
        #expect(returned.count == 1)
        let rows = try IngestScenario.rows(store.path)
        #expect(rows["alerts"] == 1 && rows["files"] == 1)
        let again = StoreWriter(store: store)
        #expect(try outcomes.flatMap { try again.add($0) }.isEmpty)
        #expect(try IngestScenario.rows(store.path) == rows)
    }

    /// A batch holds a few dozen inputs: the input that fills it commits it with those before it.
    @Test func aFullBatchIsCommittedWithoutWaitingForTheEnd() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let paths = (0...StoreWriter.maxFiles).map { dir.write("calls-\($0).json", IngestScenario.calls($0)) }
        let outcomes = try IngestScenario.outcomes(paths, mappings: IngestScenario.mappings(in: dir))
        let store = try IngestScenario.store(in: dir)
        let writer = StoreWriter(store: store)
        var ledger: [Int] = []
        for outcome in outcomes {
            _ = try writer.add(outcome)
            ledger.append(try IngestScenario.count(store.path, "files"))
        }
        let full = StoreWriter.maxFiles
        #expect(ledger == Array(repeating: 0, count: full - 1) + [full, full, full + 1])
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
        #expect(try writer.add(failed).isEmpty)
        #expect(try writer.add(FileOutcome(path: nil)).isEmpty)
        #expect(try IngestScenario.count(store.path, "files") == 0)
    }
}
