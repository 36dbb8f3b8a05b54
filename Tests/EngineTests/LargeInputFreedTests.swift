import Foundation
import Synchronization
@testable import Pipeline
import TestSupport
import Testing

/// An input with many billing lines (a payer's month) is let go in the middle of an arena; the pipeline
/// says when, once per such input, so that the CLI can hand the free pages back (issue 17: 105–125 MB
/// free in the arenas at the 20,000-account world's peak at `--jobs 2`).
@Suite struct LargeInputFreedTests {
    @Test(arguments: [1, 2])
    func anInputWithManyBillingLinesIsReportedOnceLetGo(jobs: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let header =
            "identity/LineItemId,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/UsageType,lineItem/Operation,lineItem/ResourceId,lineItem/UsageAmount,product/instanceType,product/region,pricing/unit"
        func rows(_ file: String, _ hours: Range<Int>) -> String {
            let lines = hours.map { hour in
                let start = String(format: "2026-03-01T%02d:00:00Z", hour)
                let end = String(format: "2026-03-01T%02d:00:00Z", hour + 1)
                return
                    "li-\(file)-\(hour),111122223333,Usage,\(start),\(end),BoxUsage:p5.48xlarge,RunInstances,i-0aaa1111bbbb2222c,1.0,p5.48xlarge,us-east-1,Hrs"
            }
            return dir.write("in/\(file).csv", ([header] + lines).joined(separator: "\n") + "\n")
        }
        // Three lines, two, four, and three again: a named instance's lines delivered twice are handed on,
        // for the run that bills their hours to take nothing of them (not de-duplicated in the window).
        let inputs = [rows("a", 0..<3), rows("b", 3..<5), rows("c", 5..<9), rows("a", 0..<3)]
        let (summary, freed) = Self.run(inputs, jobs: jobs) { $0.largeInputLines = 3 }
        #expect(summary.computeEvents == 12)
        // After the first input's outcome, the third's and the fourth's: the second has two lines.
        #expect(freed == [1, 3, 4])
    }

    /// Whatever each input lets go, the pipeline says so again after every ``largeDecodedBytes`` of input
    /// decoded (issue 17: the small chunks the inputs leave between the state that grows).
    @Test(arguments: [1, 2])
    func everySoManyDecodedBytesAreReportedWhateverWasLetGo(jobs: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // Five inputs of one billing line each, all of one size (the hours are two digits).
        let inputs = Self.oneLineInputs(5, in: dir)
        let size = Int64(try FileManager.default.attributesOfItem(atPath: inputs[0])[.size] as! Int)
        let (summary, freed) = Self.run(inputs, jobs: jobs) { $0.largeDecodedBytes = 2 * size }
        #expect(summary.computeEvents == 5)
        #expect(summary.decodedBytes == 5 * size)
        // Two inputs' bytes after the second input, two more after the fourth; the fifth's are not enough.
        #expect(freed == [2, 4])
    }

    /// `count` billing exports of one line each (one p5 instance's hours from 10:00 UTC on), all of one size.
    static func oneLineInputs(_ count: Int, in dir: TemporaryDirectory) -> [String] {
        (0..<count).map { n in
            let start = String(format: "2026-03-01T%02d:00:00Z", n + 10)
            let end = String(format: "2026-03-01T%02d:00:00Z", n + 11)
            return dir.write(
                "in/\(n).csv",
                "identity/LineItemId,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/UsageType,lineItem/Operation,lineItem/ResourceId,lineItem/UsageAmount,product/instanceType,product/region,pricing/unit\n"
                    + "li-\(n),111122223333,Usage,\(start),\(end),BoxUsage:p5.48xlarge,RunInstances,i-0aaa1111bbbb2222c,1.0,p5.48xlarge,us-east-1,Hrs\n"
            )
        }
    }

    /// Runs `inputs` through a scoring pipeline that `configure` set up, and the number of outcomes given
    /// when each ``IngestPipeline/onLargeFree`` came.
    static func run(_ inputs: [String], jobs: Int, configure: (IngestPipeline) -> Void) -> (IngestSummary, [Int]) {
        let (geo, detector) = OrderedWorkPoolTests.scoring()
        let freed = Mutex<[Int]>([])
        let outcomes = Mutex(0)
        let pipeline = IngestPipeline(
            options: IngestOptions(jobs: jobs), detector: detector, geo: geo, onDiagnostic: { _ in },
            onOutcome: { outcome in if outcome.path != nil { outcomes.withLock { $0 += 1 } } })
        configure(pipeline)
        pipeline.onLargeFree = { freed.withLock { $0.append(outcomes.withLock { $0 }) } }
        let summary = pipeline.run(inputs: inputs)
        return (summary, freed.withLock { $0 })
    }
}
