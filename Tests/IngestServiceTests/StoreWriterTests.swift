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

    /// Sessions still running at the end come in parts of `endPartSessions` before the final outcome (a
    /// large customer closes tens of thousands there), in the order they close; the store writes the
    /// parts into the final outcome's batch, so nothing of them is committed, nor an alert handed over,
    /// before the final outcome.
    @Test func sessionsOpenAtTheEndComeInPartsAndCommitWithTheFinalOutcome() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let count = IngestPipeline.endPartSessions + 500
        let ids = (0..<count).map { String(format: "i-%017x", $0) }
        let path = dir.write(
            "launch.json",
            "{\"Records\":["
                + runInstancesRecord(ids: ids, account: IngestScenario.account, time: "2026-03-01T02:00:00Z") + "]}")
        let outcomes = try IngestScenario.outcomes([path], mappings: IngestScenario.mappings(in: dir))
        // The input, then parts (the running sessions' alerts of the last ticks, then the closing sessions,
        // `endPartSessions` or more each), then the final outcome.
        try #require(outcomes.count >= 3)
        #expect(outcomes[0].path == path && !outcomes[0].isEndPart)
        for part in outcomes.dropFirst().dropLast() {
            #expect(part.path == nil && part.isEndPart && !part.isFinal)
            #expect(part.decisions.count >= IngestPipeline.endPartSessions)
        }
        #expect(outcomes.last!.isFinal && !outcomes.last!.decisions.isEmpty)
        let closed = outcomes.dropFirst().flatMap(\.decisions).map(\.assessment.session.resourceID)
        #expect(Set(closed) == Set(ids))
        let expected = IngestScenario.alerts(outcomes)
        try #require(expected.count == count)
        let store = try IngestScenario.store(in: dir)
        let writer = StoreWriter(store: store)
        for outcome in outcomes.dropLast() { #expect(try Self.add(writer, outcome).isEmpty) }
        #expect(try IngestScenario.count(store.path, "sessions") == 0)
        #expect(try Self.add(writer, outcomes.last!).map(\.id) == expected.map(\.id))
        #expect(try IngestScenario.count(store.path, "sessions") == count)
        #expect(try IngestScenario.count(store.path, "alerts") == count)
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
