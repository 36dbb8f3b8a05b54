import Foundation
import TestSupport
import Testing

/// The order paths are named in does not change what `ingest` or `tail --once` raise: a world's trail
/// and its billing export named in either order, or their parent alone, give the same alert lines.
/// Billing lines join the sessions when read, so before the inputs were merged in one delivery order an
/// export named after the trail (read after the whole trail) cut its resources' sessions otherwise than
/// the export read first (`ingest logs/`, whose export files have no delivery time and come first):
/// on this world 34 alerts against 27, and `tail --once` differed from both. The world is
/// `Scripts/generate-world --billing` (python3), so the test is skipped without python3.
@Suite struct InputOrderTests {
    static let generator = Repository.root + "/Scripts/generate-world"

    static var available: Bool {
        TailDeterminismTests.python3 != nil && FileManager.default.isExecutableFile(atPath: BuiltBinary.path)
            && FileManager.default.fileExists(atPath: generator)
    }

    @Test(.enabled(if: available, "needs python3 and the built chiptrail binary"), .timeLimit(.minutes(2)))
    func theTrailAndItsBillingExportInAnyOrderRaiseTheSameAlerts() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let world = dir.path + "/world"
        let generate = Process()
        generate.executableURL = URL(fileURLWithPath: try #require(TailDeterminismTests.python3))
        generate.arguments = [
            Self.generator, "--out", world, "--accounts", "60", "--days", "7", "--seed", "5", "--billing",
        ]
        let made = try BuiltBinary.collect(generate, timeout: 60)
        try #require(made.status == 0, "generate-world failed: \(made.stderr)")
        let options = [
            "--mappings", world + "/mappings.csv", "--resellers", world + "/resellers.csv", "--geoip",
            world + "/geoip.csv",
        ]
        let logs = world + "/logs"
        let orders = [[logs], [logs + "/AWSLogs", logs + "/billing"], [logs + "/billing", logs + "/AWSLogs"]]
        var outputs: [String] = []
        for paths in orders {
            let ingest = try BuiltBinary.run(["ingest", "--no-store"] + options + paths, timeout: 60)
            #expect(ingest.status == 0 || ingest.status == 1, "\(ingest.stderr)")
            outputs.append(ingest.stdout)
        }
        for (n, paths) in orders.dropFirst().enumerated() {
            let store = dir.path + "/tail-\(n).db"
            let tail = try BuiltBinary.run(["tail", "--once", "--store", store] + options + paths, timeout: 60)
            #expect(tail.status == 0 || tail.status == 1, "\(tail.stderr)")
            outputs.append(tail.stdout)
        }
        // The world raises alerts, on sessions with billing lines among them (read where the export is).
        let alerts = outputs[0].split(separator: "\n")
        #expect(alerts.count > 10)
        #expect(alerts.contains { $0.contains("/billing/") && $0.contains("cur2-00001.csv.gz:") })
        for (n, output) in outputs.enumerated().dropFirst() {
            let lines = output.split(separator: "\n")
            let same = output == outputs[0]
            #expect(
                same,
                "\(n < 3 ? "ingest" : "tail --once") \(orders[n < 3 ? n : n - 2].map { $0.dropFirst(logs.count) }): \(lines.count) alerts, \(lines.filter { !alerts.contains($0) }.count) not raised by ingest \(logs) (\(alerts.count))"
            )
        }
    }
}
