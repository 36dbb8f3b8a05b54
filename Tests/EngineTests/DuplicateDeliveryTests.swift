import Foundation
import Synchronization
@testable import Pipeline
import Sessions
import TestSupport
import Testing

/// CloudTrail may deliver a record twice, in two objects or in one. A lifecycle record is both a call
/// (network and identity evidence) and one event per instance it names (sessions): each counts once,
/// and the de-duplication window holds one key for the record, not one for its call and one for each
/// of its events (issue 17: at a dense trail's rate the window is the largest table).
@Suite struct DuplicateDeliveryTests {
    static func inputs(_ dir: TemporaryDirectory) -> [String] {
        let run = runInstancesRecord(ids: ["i-1", "i-2"], time: "2026-03-01T02:00:00Z", eventID: "run-1")
        let stop = lifecycleRecord("StopInstances", ids: ["i-1"], time: "2026-03-01T03:00:00Z", eventID: "stop-1")
        let terminate = lifecycleRecord(
            "TerminateInstances", ids: ["i-2"], time: "2026-03-01T04:00:00Z", eventID: "terminate-1")
        func file(_ name: String, _ records: [String]) -> String {
            dir.write(name, "{\"Records\":[" + records.joined(separator: ",") + "]}")
        }
        return [
            file("in/a.json", [run, cloudTrailRecord(time: "2026-03-01T02:01:00Z", eventID: "describe-a")]),
            // The launch again in another object, and twice in this one; the stop for the first time.
            file("in/b.json", [run, run, stop, cloudTrailRecord(time: "2026-03-01T03:01:00Z", eventID: "describe-b")]),
            file("in/c.json", [stop, terminate]),
        ]
    }

    @Test(arguments: [1, 2])
    func aLifecycleRecordDeliveredTwiceCountsOnceAndHoldsOneKey(jobs: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (geo, detector) = OrderedWorkPoolTests.scoring()
        let pipeline = IngestPipeline(
            options: IngestOptions(jobs: jobs), detector: detector, geo: geo, onDiagnostic: { _ in },
            onOutcome: { _ in })
        let summary = pipeline.run(inputs: Self.inputs(dir))
        // Two launches (one record naming two instances), one stop, one termination.
        #expect(summary.computeEvents == 4)
        // The launch delivered three times, the stop twice.
        #expect(summary.duplicateEvents == 3)
        #expect(summary.sessions == 2)
        // run-1, describe-a, stop-1, describe-b, terminate-1: a key each (nine when every event had its own).
        #expect(pipeline.windowKeysAtEnd == 5)
        // Then dropped: nothing can arrive after the end of the input.
        #expect(pipeline.dedup.count == 0)
    }

    /// A billing line delivered twice (a CUR file re-delivered, a row repeated in one) counts once, its
    /// hours once: its event id, spelled from the packed line, is the window's key.
    @Test(arguments: [1, 2])
    func aBillingLineDeliveredTwiceCountsOnce(jobs: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let header =
            "identity/LineItemId,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/UsageType,lineItem/Operation,lineItem/ResourceId,lineItem/UsageAmount,product/instanceType,product/region,pricing/unit"
        func row(_ hour: Int) -> String {
            let start = String(format: "2026-03-01T%02d:00:00Z", hour)
            let end = String(format: "2026-03-01T%02d:00:00Z", hour + 1)
            return
                "li-\(hour),111122223333,Usage,\(start),\(end),BoxUsage:p5.48xlarge,RunInstances,i-0aaa1111bbbb2222c,1.0,p5.48xlarge,us-east-1,Hrs"
        }
        let inputs = [
            dir.write("in/a.csv", ([header] + (0..<3).map(row)).joined(separator: "\n") + "\n"),
            // Hours 1 and 2 again, hour 3 twice, hour 4 once.
            dir.write("in/b.csv", ([header] + [1, 2, 3, 3, 4].map(row)).joined(separator: "\n") + "\n"),
        ]
        let (geo, detector) = OrderedWorkPoolTests.scoring()
        var options = IngestOptions(jobs: jobs)
        options.keepCalls = .evidence
        // Each outcome's events (kept for a store) and the billed hours of its sessions.
        let seen = Mutex<(events: [String], hours: [Double])>(([], []))
        let pipeline = IngestPipeline(
            options: options, detector: detector, geo: geo, onDiagnostic: { _ in },
            onOutcome: { outcome in
                seen.withLock {
                    $0.events += outcome.events.map(\.origin.description)
                    $0.hours += outcome.decisions.map(\.assessment.session.billedInstanceHours)
                }
            })
        let summary = pipeline.run(inputs: inputs)
        #expect(summary.computeEvents == 5)
        #expect(summary.sessions == 1)
        let (events, hours) = seen.withLock { $0 }
        #expect(
            events.map { ($0 as NSString).lastPathComponent } == [
                "a.csv:2", "a.csv:3", "a.csv:4", "b.csv:4", "b.csv:6",
            ])
        #expect(hours == [5])
    }
}
