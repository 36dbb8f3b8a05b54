import Foundation
import TestSupport
import Testing

/// Issue 16, part 1, end to end: `tail` over a generated world, with shuffled arrival in batches and
/// `kill -9`, raises exactly the alerts `ingest` raises on the same files (ids and scores). The check is
/// `Scripts/check-tail-determinism` (python3, standard library only), which treats the binary as a black
/// box; this test runs it small (40 accounts, 5 days, two arrival variants, two kills) against the binary
/// the other end-to-end tests use. Skipped (shown as a skip) without python3 or without that binary.
@Suite(.serialized) struct TailDeterminismTests {
    static let script = Repository.root + "/Scripts/check-tail-determinism"

    static var python3: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { $0 + "/python3" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    static var available: Bool {
        python3 != nil && FileManager.default.isExecutableFile(atPath: BuiltBinary.path)
            && FileManager.default.fileExists(atPath: script)
    }

    @Test(
        .enabled(if: available, "needs python3 and the built chiptrail binary"),
        .timeLimit(.minutes(4)))
    func tailRaisesWhatIngestRaisesWhateverTheArrival() throws {
        let work = TemporaryDirectory()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(Self.python3))
        p.arguments = [
            Self.script, "--generator", "world", "--accounts", "40", "--days", "5", "--seed", "101",
            "--variants", "shuffled,killed", "--batches", "3", "--kills", "2", "--settle", "1.5", "--timeout", "60",
            "--work", work.path + "/check",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["CHIPTRAIL_BINARY"] = BuiltBinary.path
        p.environment = environment
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // A hang fails the test instead of stalling the suite: SIGTERM (the script stops its tail daemon
        // on the way out), then SIGKILL.
        let pid = p.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + 180) {
            if p.isRunning { kill(pid, SIGTERM) }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 200) {
            if p.isRunning { kill(pid, SIGKILL) }
        }
        let report = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "tail and ingest differ (work directory kept at \(work.path)):\n\(report)")
        #expect(report.contains("every run equals ingest"), "\(report)")
        // Both arrival variants ran, and the killed one was killed.
        #expect(report.contains("shuffled  stdout"), "\(report)")
        #expect(report.range(of: #"killed\s+stdout(\s+\d+){6}\s+2\s"#, options: .regularExpression) != nil, "\(report)")
        if p.terminationStatus == 0 { work.remove() }
    }
}
