import Foundation
import Synchronization
@testable import Pipeline
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// At `--jobs 2` the stage (holding, deciding, every callback) runs on the thread that called `run`, and
/// the merge on a thread of its own: the caller's allocator arena already holds the state made before the
/// readers started, which the stage grows (issue 17: on a thread of its own the stage shared an arena
/// with a reader or not as glibc placed it, and the 20,000-account world's peak followed).
@Suite struct StageThreadTests {
    @Test(arguments: [1, 2])
    func everyOutcomeIsHandedOnOnTheCallingThread(jobs: Int) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let inputs = LargeInputFreedTests.oneLineInputs(4, in: dir)
        let caller = pthread_self()
        let (geo, detector) = OrderedWorkPoolTests.scoring()
        let counts = Mutex((here: 0, elsewhere: 0))
        let pipeline = IngestPipeline(
            options: IngestOptions(jobs: jobs), detector: detector, geo: geo, onDiagnostic: { _ in },
            onOutcome: { outcome in
                guard outcome.path != nil else { return }
                let here = pthread_equal(pthread_self(), caller) != 0
                counts.withLock { here ? ($0.here += 1) : ($0.elsewhere += 1) }
            })
        let summary = pipeline.run(inputs: inputs)
        #expect(summary.computeEvents == 4)
        let (here, elsewhere) = counts.withLock { $0 }
        #expect(here == 4)
        #expect(elsewhere == 0)
    }
}
