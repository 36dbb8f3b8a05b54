import Foundation
import Testing

/// The live state holds what can alert: lifecycle events of instance types the catalogue does not know
/// as accelerated open no session (they are still stored), unless `sessions = all`.
@Suite struct LiveStateTests {
    @Test(arguments: [false, true])
    func onlyAcceleratedTypesOpenSessions(all: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let records = [
            runInstancesRecord(type: "t3.micro", ids: ["i-0small"], time: "2026-03-01T01:00:00Z"),
            runInstancesRecord(type: "p5.48xlarge", ids: ["i-0large"], time: "2026-03-01T01:10:00Z"),
            lifecycleRecord("StopInstances", ids: ["i-0small"], time: "2026-03-01T02:00:00Z"),
            lifecycleRecord("StartInstances", ids: ["i-0small"], time: "2026-03-01T03:00:00Z"),
            // A stop of an instance launched before the trail: its type is unknown, so it is not followed.
            lifecycleRecord("StopInstances", ids: ["i-0before"], time: "2026-03-01T03:30:00Z"),
            lifecycleRecord("TerminateInstances", ids: ["i-0small", "i-0large"], time: "2026-03-01T04:00:00Z"),
        ]
        let trail = dir.write("trail.json", "{\"Records\":[" + records.joined(separator: ",") + "]}")
        var arguments = ["ingest", "--store", dir.path + "/s.db", "--jobs", "1"]
        if all { arguments += ["--config", dir.write("c.conf", "sessions = all\n")] }
        let result = try BuiltBinary.run(arguments + [trail])
        #expect(result.status == 0, "\(result.stderr)")
        let sessions = try BuiltBinary.run([
            "query", "--store", dir.path + "/s.db", "--output", "csv", "SELECT resource_id FROM sessions ORDER BY resource_id",
        ])
        let want = all ? ["i-0large", "i-0small", "i-0small"] : ["i-0large"]
        #expect(Array(sessions.stdout.split(separator: "\n").dropFirst()) == want.map { Substring($0) }, "\(sessions.stdout)")
        let events = try BuiltBinary.run(["query", "--store", dir.path + "/s.db", "--output", "csv", "SELECT COUNT(*) FROM events"])
        #expect(events.stdout.hasSuffix("\n7\n"), "\(events.stdout)")
    }
}
