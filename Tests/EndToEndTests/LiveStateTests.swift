import Foundation
import TestSupport
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
            "query", "--store", dir.path + "/s.db", "--output", "csv",
            "SELECT resource_id FROM sessions ORDER BY resource_id",
        ])
        let want = all ? ["i-0large", "i-0small", "i-0small"] : ["i-0large"]
        #expect(
            Array(sessions.stdout.split(separator: "\n").dropFirst()) == want.map { Substring($0) },
            "\(sessions.stdout)")
        let events = try BuiltBinary.run([
            "query", "--store", dir.path + "/s.db", "--output", "csv", "SELECT COUNT(*) FROM events",
        ])
        #expect(events.stdout.hasSuffix("\n7\n"), "\(events.stdout)")
    }

    /// An instance launched before the trail, billed 00:00–06:00 as p5, stopped at 03:00 and started at
    /// 07:00 by calls that name no type: whichever file is read first, the same session and the same
    /// alert (the stop and start are not followed: the resource's type is known only from billing lines,
    /// which join when read, not at event-time ticks).
    @Test(arguments: [false, true])
    func typelessLifecycleEventsDoNotDependOnWhenBillingCame(billingFirst: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let account = "111122223333"
        var cur =
            "lineItem/UsageAccountId,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/UsageType,lineItem/ResourceId,lineItem/UsageAmount\n"
        for h in 0..<6 {
            cur += "\(account),2026-03-01T0\(h):00:00Z,2026-03-01T0\(h + 1):00:00Z,BoxUsage:p5.48xlarge,i-0old,1\n"
        }
        let billing = dir.write("cur.csv", cur)
        let records = [
            lifecycleRecord("StopInstances", ids: ["i-0old"], account: account, time: "2026-03-01T03:00:00Z"),
            lifecycleRecord("StartInstances", ids: ["i-0old"], account: account, time: "2026-03-01T07:00:00Z"),
            cloudTrailRecord(account: account, time: "2026-03-01T12:30:00Z", ip: "198.51.100.9"),
        ]
        let trail = dir.write("trail.json", "{\"Records\":[" + records.joined(separator: ",") + "]}")
        let mappings = dir.write(
            "m.csv",
            "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\naws,\(account),,C-1,CN,2025-01-01T00:00:00Z,\n"
        )
        let store = dir.path + "/s.db"
        let result = try BuiltBinary.run(
            ["ingest", "--store", store, "--jobs", "1", "--mappings", mappings]
                + (billingFirst ? [billing, trail] : [trail, billing]))
        #expect(result.status == 0, "\(result.stderr)")
        let sessions = try BuiltBinary.run([
            "query", "--store", store, "--output", "csv",
            "SELECT start, end, open, accelerator_hours FROM sessions WHERE resource_id = 'i-0old'",
        ])
        #expect(
            sessions.stdout == "start,end,open,accelerator_hours\n2026-03-01T00:00:00Z,2026-03-01T06:00:00Z,0,48.0\n")
        let alerts = try EndToEndTests.alerts(result.stdout)
        #expect(alerts.count == 1)
        #expect(alerts.first?["id"] as? String == "a-0bc87e675c18a755")
        #expect((alerts.first?["session"] as? [String: Any])?["end"] as? String == "2026-03-01T06:00:00Z")
    }
}
