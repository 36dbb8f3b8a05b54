import Detection
import Foundation
@testable import Pipeline
import Synchronization
import TestSupport
import Testing
import UsageModel

/// With `--jobs` > 1 the merged inputs are held and decided on a stage of their own while the merge
/// de-duplicates the next ones (`IngestPipeline.mergeStaged`): the outcomes — their order, decisions,
/// alerts, kept calls and events — and the counts are those of one thread, whether the held records stay
/// in memory or are spilled, and a stop ends the run at the same input.
@Suite struct StagedMergeTests {
    /// What a test compares of an outcome.
    struct Seen: Equatable {
        var path: String?
        var isEndPart: Bool
        var records: Int
        var events: [String]
        var calls: [String]
        var sessions: [StoredSession]
        var alerts: [Alert?]

        init(_ o: FileOutcome) {
            path = o.path
            isEndPart = o.isEndPart
            records = o.records
            events = o.events.map { "\($0.eventID) \($0.accountID) \($0.resourceID)" }
            calls = o.calls.map { "\($0.call.eventKey) \($0.accountID) \($0.restricted)" }
            sessions = o.stored
            alerts = o.decisions.map(\.alert)
        }
    }

    /// SampleLogs' inputs (every object under AWSLogs, in name order) and its setup.
    static func sample() throws -> (inputs: [String], setup: PipelineSetup) {
        let root = Repository.root + "/SampleLogs"
        var settings = PipelineSettings()
        settings.config = root + "/chiptrail.conf"
        settings.mappings = [root + "/mappings.csv"]
        settings.resellers = [root + "/resellers.csv"]
        settings.geoip = [root + "/geoip.csv"]
        let setup = try PipelineSetup(settings)
        let logs = root + "/AWSLogs"
        let inputs = try FileManager.default.subpathsOfDirectory(atPath: logs).sorted()
            .map { logs + "/" + $0 }.filter { path in
                var isDirectory: ObjCBool = false
                return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            }
        return (inputs, setup)
    }

    /// Runs `inputs` with `jobs` readers; a stop is requested once `stopAfter` outcomes were handed on.
    static func run(
        _ inputs: [String], setup: PipelineSetup, jobs: Int, budget: Int?, kept: IngestOptions.KeptCalls,
        stopAfter: Int? = nil
    ) -> (seen: [Seen], summary: IngestSummary, progress: [String]) {
        var options = setup.options
        options.jobs = jobs
        options.heldMemoryBudget = budget
        options.keepCalls = kept
        let seen = Mutex<[Seen]>([])
        let stop = StopRequest()
        let pipeline = IngestPipeline(
            options: options, detector: setup.detector, geo: setup.geo, onDiagnostic: { _ in },
            onOutcome: { outcome in
                let count = seen.withLock {
                    $0.append(Seen(outcome))
                    return $0.count
                }
                if count == stopAfter { stop.request() }
            })
        let progress = Mutex<[String]>([])
        pipeline.onProgress = { done, total, s in
            progress.withLock { $0.append("\(done)/\(total) \(s.files) \(s.records) \(s.sessions) \(s.alerts)") }
        }
        var remaining = inputs.makeIterator()
        let summary = pipeline.run(expected: inputs.count, next: { remaining.next() }, stop: stop)
        return (seen.withLock { $0 }, summary, progress.withLock { $0 })
    }

    static func counts(_ s: IngestSummary) -> String {
        "\(s.files) \(s.records) \(s.recordsRejected) \(s.duplicateEvents) \(s.computeEvents) \(s.sessions) \(s.alerts)"
            + " \(s.accounts) \(s.lateRecords) \(s.interrupted)"
    }

    /// The same outcomes, progress and counts at `--jobs 1` and with the stage, with the held records in
    /// memory, spilled past a small budget, and all spilled; with and without the calls kept for a store.
    @Test(arguments: [nil, 4096, 0] as [Int?], [IngestOptions.KeptCalls.none, .evidence])
    func theStageDecidesAsOneThreadDoes(budget: Int?, kept: IngestOptions.KeptCalls) throws {
        let (inputs, setup) = try Self.sample()
        let one = Self.run(inputs, setup: setup, jobs: 1, budget: budget, kept: kept)
        #expect(one.summary.alerts > 0)
        #expect(one.seen.contains { !$0.calls.isEmpty } == (kept != .none))
        for jobs in [2, 3] {
            let staged = Self.run(inputs, setup: setup, jobs: jobs, budget: budget, kept: kept)
            #expect(staged.seen == one.seen, "\(jobs) jobs")
            #expect(staged.progress == one.progress, "\(jobs) jobs")
            #expect(Self.counts(staged.summary) == Self.counts(one.summary), "\(jobs) jobs")
        }
    }

    /// A stop requested while an input's outcome is handed on ends the run after that input with the
    /// stage as without it: the inputs the merge had gone on to are dropped, and the counts are those of
    /// the inputs decided.
    @Test(arguments: [1, 17, 40])
    func aStopEndsTheStagedRunAtTheSameInput(after: Int) throws {
        let (inputs, setup) = try Self.sample()
        let one = Self.run(inputs, setup: setup, jobs: 1, budget: 0, kept: .evidence, stopAfter: after)
        #expect(one.summary.interrupted)
        #expect(one.seen.count == after)
        for jobs in [2, 3] {
            let staged = Self.run(inputs, setup: setup, jobs: jobs, budget: 0, kept: .evidence, stopAfter: after)
            #expect(staged.seen == one.seen, "\(jobs) jobs")
            #expect(staged.progress == one.progress, "\(jobs) jobs")
            #expect(Self.counts(staged.summary) == Self.counts(one.summary), "\(jobs) jobs")
        }
    }
}
