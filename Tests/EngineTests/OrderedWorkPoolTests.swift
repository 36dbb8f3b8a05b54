import Catalog
import Detection
import Foundation
import Ownership
@testable import Pipeline
import Synchronization
import TestSupport
import Testing
import UsageModel

/// The pipeline pulls its inputs from a source as readers free up (`run(expected:next:)`, what
/// `ingest s3://…` walks a listing with): the outcomes come in the source's order whatever the number
/// of readers, and no more than `2 × jobs` inputs are pulled ahead of the merge (and the few the stage
/// that decides them has waiting), so what the source hands out is held for a bounded while.
@Suite struct OrderedWorkPoolTests {
    static let inputCount = 40

    /// Small inputs of uneven sizes (readers finish out of order).
    static func inputs(_ dir: TemporaryDirectory) -> [String] {
        (0..<inputCount).map { i in
            let records = (0..<(1 + (i * 7) % 13)).map { k in
                cloudTrailRecord(
                    account: String(format: "1111%08d", i % 3),
                    time: String(format: "2026-03-01T%02d:%02d:00Z", i / 4, k),
                    eventID: "pool-\(i)-\(k)")
            }
            return dir.write(
                String(format: "in/%02d.json", i), "{\"Records\":[" + records.joined(separator: ",") + "]}")
        }
    }

    /// No GeoIP, no mappings: the built-in catalogue and jurisdictions.
    static func scoring() -> (GeoIPTable, Detector) {
        let (geo, _) = GeoIPTable.load(paths: [])
        let detector = Detector(
            catalog: .builtIn, jurisdictions: .builtIn, mappings: MappingTable(), resellers: ResellerGraph(),
            config: .unfitted)
        return (geo, detector)
    }

    /// At most twice the readers are pulled ahead of the merge; with a read-ahead budget of one byte, a
    /// result waiting for the merge stops the pulling, so at most one a reader and one more. With more
    /// than one reader the stage's inputs come on top.
    @Test(arguments: [(1, false), (2, false), (3, false), (8, false), (2, true), (3, true), (8, true)])
    func outcomesComeInTheSourcesOrderAndFewArePulledAhead(jobs: Int, tinyBudget: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let paths = Self.inputs(dir)
        let (geo, detector) = Self.scoring()
        let counts = Mutex((pulled: 0, merged: 0, ahead: 0))
        let order = Mutex<[String]>([])
        var options = IngestOptions(jobs: jobs)
        if tinyBudget { options.readAheadBytes = 1 }
        let pipeline = IngestPipeline(
            options: options, detector: detector, geo: geo, onDiagnostic: { _ in },
            onOutcome: { outcome in
                guard let path = outcome.path else { return }
                order.withLock { $0.append(path) }
                counts.withLock { $0.merged += 1 }
            })
        let summary = pipeline.run(expected: paths.count) {
            counts.withLock { c -> String? in
                guard c.pulled < paths.count else { return nil }
                c.pulled += 1
                // Pulled and not yet merged (the one being merged included).
                c.ahead = max(c.ahead, c.pulled - c.merged)
                return paths[c.pulled - 1]
            }
        }
        #expect(order.withLock { $0 } == paths)
        #expect(summary.files == paths.count)
        let ahead = counts.withLock { $0.ahead }
        // With more than one reader, besides: the inputs merged and waiting for the stage that decides
        // them, and the one it holds (`IngestPipeline.mergeStaged`).
        let staged = jobs <= 1 ? 0 : IngestPipeline.stageDepth + 1
        #expect(
            ahead <= (jobs <= 1 ? 1 : tinyBudget ? jobs + 2 : 2 * jobs + 1) + staged,
            "\(ahead) inputs pulled ahead of the outcomes with \(jobs) job(s)")
    }

    /// The same alerts, sessions and counts for any number of readers, and as `run(inputs:)` gives.
    @Test func aPulledSourceReadsAsTheListDoesForAnyNumberOfReaders() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let paths = Self.inputs(dir)
        let (geo, detector) = Self.scoring()
        func run(jobs: Int, pulled: Bool) -> String {
            let pipeline = IngestPipeline(
                options: IngestOptions(jobs: jobs), detector: detector, geo: geo, onDiagnostic: { _ in },
                onOutcome: { _ in })
            var remaining = paths.makeIterator()
            let summary = pulled ? pipeline.run(expected: 0) { remaining.next() } : pipeline.run(inputs: paths)
            return
                "\(summary.files) \(summary.records) \(summary.sessions) \(summary.alerts) \(summary.duplicateEvents)"
        }
        let reference = run(jobs: 1, pulled: false)
        for jobs in [1, 2, 5] { #expect(run(jobs: jobs, pulled: true) == reference) }
    }

    /// Issue 19: a stop (ingest's SIGINT) ends the run at the next input boundary: the inputs merged so
    /// far are all there is, no more are pulled than the readers hold, and the end of the input (the
    /// outcome without a path, which decides the sessions still running) does not come.
    @Test(arguments: [1, 2, 3])
    func aStopEndsTheRunAtAnInputBoundaryWithoutDecidingTheEnd(jobs: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let paths = Self.inputs(dir)
        let (geo, detector) = Self.scoring()
        let stop = StopRequest()
        let seen = Mutex((merged: [String](), ended: false))
        let pipeline = IngestPipeline(
            options: IngestOptions(jobs: jobs), detector: detector, geo: geo, onDiagnostic: { _ in },
            onOutcome: { outcome in
                guard let path = outcome.path else { return seen.withLock { $0.ended = true } }
                if seen.withLock({
                    $0.merged.append(path); return $0.merged.count
                }) == 5 {
                    stop.request()
                }
            })
        let pulled = Mutex(0)
        let summary = pipeline.run(
            expected: paths.count,
            next: {
                pulled.withLock { n -> String? in
                    guard n < paths.count else { return nil }
                    n += 1
                    return paths[n - 1]
                }
            }, stop: stop)
        #expect(summary.interrupted)
        #expect(summary.files == 5)
        #expect(seen.withLock { $0.merged } == Array(paths.prefix(5)))
        #expect(!seen.withLock { $0.ended })
        let ahead = pulled.withLock { $0 }
        // With more than one reader the merge may have gone on to a few inputs the stage then dropped.
        let staged = jobs <= 1 ? 0 : IngestPipeline.stageDepth + 1
        #expect(ahead <= (jobs <= 1 ? 5 : 5 + 2 * jobs + staged), "\(ahead) inputs pulled with \(jobs) job(s)")
        // Without a stop the same pipeline's run reaches the end.
        let whole = IngestPipeline(
            options: IngestOptions(jobs: jobs), detector: detector, geo: geo, onDiagnostic: { _ in },
            onOutcome: { _ in })
        #expect(!whole.run(inputs: paths).interrupted)
    }
}
