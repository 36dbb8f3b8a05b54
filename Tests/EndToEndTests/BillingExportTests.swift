import Foundation
import TestSupport
import Testing

/// A world's audit trail beside its billing export (`Scripts/generate-world --billing`, python3: skipped
/// without it), read as providers deliver them.
@Suite(.serialized) struct BillingExportTests {
    static let generator = Repository.root + "/Scripts/generate-world"

    static var available: Bool {
        TailDeterminismTests.python3 != nil && FileManager.default.isExecutableFile(atPath: BuiltBinary.path)
            && FileManager.default.fileExists(atPath: generator)
    }

    /// 60 accounts over 7 days, seed 5, in `dir/world`; the options that read it.
    static func world(in dir: TemporaryDirectory) throws -> (path: String, options: [String]) {
        let world = dir.path + "/world"
        let generate = Process()
        generate.executableURL = URL(fileURLWithPath: try #require(TailDeterminismTests.python3))
        generate.arguments = [
            Self.generator, "--out", world, "--accounts", "60", "--days", "7", "--seed", "5", "--billing",
        ]
        let made = try BuiltBinary.collect(generate, timeout: 60)
        try #require(made.status == 0, "generate-world failed: \(made.stderr)")
        return (
            world,
            [
                "--mappings", world + "/mappings.csv", "--resellers", world + "/resellers.csv", "--geoip",
                world + "/geoip.csv",
            ]
        )
    }

    /// The order paths are named in does not change what `ingest` or `tail --once` raise: the trail and
    /// the export named in either order, or their parent alone, give the same alert lines. Billing lines
    /// join the sessions when read, so before the inputs were merged in one delivery order an export
    /// named after the trail (read after the whole trail) cut its resources' sessions otherwise than the
    /// export read first (`ingest logs/`, whose export files have no delivery time and come first): on
    /// this world 34 alerts against 27, and `tail --once` differed from both.
    @Test(.enabled(if: available, "needs python3 and the built chiptrail binary"), .timeLimit(.minutes(2)))
    func theTrailAndItsBillingExportInAnyOrderRaiseTheSameAlerts() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (world, options) = try Self.world(in: dir)
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
    /// A CUR 2.0 export delivered again — the month's files rewritten, read whole again, here a copy of
    /// each named as delivered after the trail's last day — raises nothing new and changes no alert: its
    /// lines join the runs they bill, running or closed. Before, lines older than the de-duplication
    /// window (two days) opened second sessions of closed runs (remembered for three days; runs billed
    /// alone not at all) and added their hours again to running ones: on this world `ingest --no-store`
    /// printed 34 alert lines against 27, three of them an id printed twice, `ingest --store` 31, and
    /// `tail --once` 27 (one input, three answers).
    @Test(.enabled(if: available, "needs python3 and the built chiptrail binary"), .timeLimit(.minutes(2)))
    func anExportDeliveredAgainRaisesNothingNew() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (world, options) = try Self.world(in: dir)
        let again = dir.path + "/again"
        try FileManager.default.copyItem(atPath: world + "/logs", toPath: again)
        let exports = try FileManager.default.subpathsOfDirectory(atPath: again + "/billing").filter {
            $0.hasSuffix(".csv.gz")
        }
        try #require(!exports.isEmpty)
        for export in exports {
            let path = again + "/billing/" + export
            try FileManager.default.copyItem(
                atPath: path, toPath: path.replacingOccurrences(of: ".csv.gz", with: "_20260930T0000Z.csv.gz"))
        }
        let once = try BuiltBinary.run(["ingest", "--no-store"] + options + [world + "/logs"], timeout: 60)
        #expect(once.stdout.split(separator: "\n").count > 10)
        let runs: [(name: String, arguments: [String])] = [
            ("ingest --no-store", ["ingest", "--no-store"]),
            ("ingest --store", ["ingest", "--store", dir.path + "/i.db"]),
            ("tail --once", ["tail", "--once", "--store", dir.path + "/t.db"]),
        ]
        for run in runs {
            let twice = try BuiltBinary.run(run.arguments + options + [again], timeout: 60)
            // The same lines but for the folder their evidence names.
            let alike = twice.stdout.replacingOccurrences(of: again + "/", with: world + "/logs/")
            let same = alike == once.stdout
            #expect(
                same,
                "\(run.name): \(alike.split(separator: "\n").count) alert lines against \(once.stdout.split(separator: "\n").count)"
            )
        }
    }
}
