import Foundation
import Testing

/// Alerts raised while a session runs: a known link at the first file that shows the launch, other
/// evidence as soon as it adds up, and never a second alert for the session when it closes.
@Suite struct EarlyAlertTests {
    static let mappings = """
        provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to
        aws,111100001111,,C-1,CN,2025-01-01T00:00:00Z,
        aws,222200002222,RS-US,C-2,,2025-01-01T00:00:00Z,

        """
    static let resellers = "reseller_id,name,country,parent_id,serves_countries\nRS-US,US Inc,US,,US\n"
    static let geoip = "198.51.100.0,198.51.100.255,US\n203.0.113.0,203.0.113.255,CN\n"

    static func time(_ hour: Int, _ minute: Int) -> String { String(format: "2026-03-01T%02d:%02d:00Z", hour, minute) }

    static func calls(_ account: String, hour: Int, count: Int, ip: String) -> [String] {
        (0..<count).map { cloudTrailRecord(account: account, time: time(hour, $0 % 60), ip: ip) }
    }

    /// `count` calls of `account` on a day of March 2026, one a minute from the hour.
    static func calls(_ account: String, day: Int, hour: Int, count: Int, ip: String) -> [String] {
        (0..<count).map {
            cloudTrailRecord(account: account, time: String(format: "2026-03-%02dT%02d:%02d:00Z", day, hour, $0 % 60), ip: ip)
        }
    }

    /// Writes one CloudTrail object per list of records, named so that they are read in order; runs
    /// `ingest` over them (with `config` as its config file); returns the alerts.
    static func run(_ files: [[String]], in dir: TemporaryDirectory, config: String = "", store: Bool = false) throws
        -> [[String: Any]]
    {
        for (i, records) in files.enumerated() {
            _ = dir.write(String(format: "in/%03d.json", i), "{\"Records\":[" + records.joined(separator: ",") + "]}")
        }
        let output = store ? ["--store", dir.path + "/s.db"] : ["--no-store"]
        let result = try BuiltBinary.run(
            ["ingest"] + output + [
                "--jobs", "1", "--mappings", dir.write("m.csv", mappings), "--resellers", dir.write("r.csv", resellers),
                "--geoip", dir.write("g.csv", geoip), "--config", dir.write("c.conf", config), dir.path + "/in",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        return try EndToEndTests.alerts(result.stdout)
    }

    @Test func aDeclaredLinkAlertsAtTheFileThatShowsTheLaunchAndOnlyThen() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let account = "111100001111"
        let alerts = try Self.run(
            [
                [runInstancesRecord(ids: ["i-0early"], account: account, time: Self.time(1, 0))]
                    + Self.calls(account, hour: 1, count: 30, ip: "198.51.100.9"),
                Self.calls(account, hour: 2, count: 5, ip: "198.51.100.9"),
                [lifecycleRecord("TerminateInstances", ids: ["i-0early"], account: account, time: Self.time(5, 0))],
                Self.calls(account, hour: 20, count: 1, ip: "198.51.100.9"),  // the watermark passes the lateness
            ], in: dir)
        try #require(alerts.count == 1)
        let session = try #require(alerts[0]["session"] as? [String: Any])
        #expect(session["open"] as? Bool == true)
        #expect(session["end"] as? String == "2026-03-01T01:05:00Z")  // the first tick after the launch
        let origins = alerts[0]["events"] as? [String] ?? []
        #expect(origins.count == 1 && origins[0].contains("/in/000.json"), "\(origins)")
    }

    /// A session that closed before its account's evidence added up is assessed again when the account
    /// alerts: it alerts too (its own id, closed, an evidence item saying when and why), once; with
    /// `lookback_days = 0` it is left alone.
    @Test(arguments: [true, false])
    func aSessionThatEndedBeforeTheEvidenceAlertsWhenItsAccountDoes(lookback: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let account = "222200002222"
        func calls(day: Int, hour: Int, count: Int, ip: String) -> [String] { Self.calls(account, day: day, hour: hour, count: count, ip: ip) }
        var files: [[String]] = [
            // Day 1: a run, closed while one day of calls from China weighs too little to alert.
            [runInstancesRecord(ids: ["i-0first"], account: account, time: Self.time(1, 0))]
                + calls(day: 1, hour: 1, count: 20, ip: "198.51.100.9"),
            calls(day: 1, hour: 3, count: 40, ip: "203.0.113.40"),
            [lifecycleRecord("TerminateInstances", ids: ["i-0first"], account: account, time: "2026-03-01T04:00:00Z")],
            calls(day: 1, hour: 20, count: 1, ip: "198.51.100.9"),
        ]
        // Days 2-6: calls from China every day; a second run on day 6 alerts.
        for day in 2...6 { files.append(calls(day: day, hour: 3, count: 40, ip: "203.0.113.40")) }
        files.append(
            [runInstancesRecord(ids: ["i-0second"], account: account, time: "2026-03-06T05:00:00Z")]
                + calls(day: 6, hour: 5, count: 5, ip: "203.0.113.40"))
        files.append(calls(day: 6, hour: 20, count: 1, ip: "203.0.113.40"))
        let alerts = try Self.run(files, in: dir, config: lookback ? "" : "lookback_days = 0\n")
        let resources = alerts.compactMap { (($0["session"] as? [String: Any])?["resource_ids"] as? [String])?.first }
        #expect(resources.filter { $0 == "i-0second" }.count == 1, "\(resources)")
        #expect(resources.filter { $0 == "i-0first" }.count == (lookback ? 1 : 0), "\(resources)")
        if lookback, let first = alerts.first(where: { (($0["session"] as? [String: Any])?["resource_ids"] as? [String])?.first == "i-0first" }) {
            let session = try #require(first["session"] as? [String: Any])
            #expect(session["open"] as? Bool == false)
            #expect(session["end"] as? String == "2026-03-01T04:00:00Z")
            let evidence = first["evidence"] as? [[String: Any]] ?? []
            let note = try #require(evidence.first { $0["kind"] as? String == "lookback" })
            #expect((note["detail"] as? String)?.contains("without an alert; assessed again at 2026-03-06") == true, "\(note)")
            #expect(evidence.contains { $0["kind"] as? String == "network" })
        }
    }

    /// A session that could not alert when it closed (no evidence of any kind yet) is kept for
    /// look-back with and without a store alike: the alerts are the same.
    @Test func lookBackIsTheSameWithAndWithoutAStore() throws {
        let account = "222200002222"
        var files: [[String]] = [
            [runInstancesRecord(ids: ["i-0quiet"], account: account, time: "2026-03-01T05:00:00Z")]
                + Self.calls(account, day: 1, hour: 5, count: 10, ip: "198.51.100.9"),
            [lifecycleRecord("TerminateInstances", ids: ["i-0quiet"], account: account, time: "2026-03-01T06:00:00Z")],
        ]
        // From the next morning (within a day of the first call: no trip), calls from China every day.
        for day in 2...6 { files.append(Self.calls(account, day: day, hour: 3, count: 40, ip: "203.0.113.40")) }
        files.append(
            [runInstancesRecord(ids: ["i-0loud"], account: account, time: "2026-03-06T05:00:00Z")]
                + Self.calls(account, day: 6, hour: 5, count: 5, ip: "203.0.113.40"))
        files.append(Self.calls(account, day: 6, hour: 20, count: 1, ip: "203.0.113.40"))
        var ids: [[String]] = []
        for store in [false, true] {
            let dir = TemporaryDirectory()
            defer { dir.remove() }
            let alerts = try Self.run(files, in: dir, store: store)
            ids.append(alerts.compactMap { (($0["session"] as? [String: Any])?["resource_ids"] as? [String])?.first }.sorted())
        }
        #expect(ids[0] == ["i-0loud", "i-0quiet"], "\(ids)")
        #expect(ids[0] == ids[1], "\(ids)")
    }

    /// Calls from China on one day weigh a quarter of the network cap, on two days half of it: the account
    /// (US reseller, customer unknown) alerts with the second day's file, while the session still runs.
    @Test func networkEvidenceAlertsWhenItAddsUpNotBefore() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let account = "222200002222"
        func calls(day: Int, hour: Int, count: Int, ip: String) -> [String] { Self.calls(account, day: day, hour: hour, count: count, ip: ip) }
        let alerts = try Self.run(
            [
                [runInstancesRecord(ids: ["i-0covert"], account: account, time: Self.time(1, 0))]
                    + calls(day: 1, hour: 1, count: 20, ip: "198.51.100.9"),
                calls(day: 1, hour: 3, count: 40, ip: "203.0.113.40"),
                calls(day: 2, hour: 3, count: 40, ip: "203.0.113.40"),
                calls(day: 3, hour: 3, count: 40, ip: "203.0.113.40"),
                [lifecycleRecord("TerminateInstances", ids: ["i-0covert"], account: account, time: "2026-03-03T05:00:00Z")],
                calls(day: 3, hour: 20, count: 1, ip: "198.51.100.9"),
            ], in: dir)
        try #require(alerts.count == 1)
        let session = try #require(alerts[0]["session"] as? [String: Any])
        #expect(session["open"] as? Bool == true)
        // Raised at the first tick of the second day's calls from China (the third file), not before.
        #expect(session["end"] as? String == "2026-03-02T03:05:00Z")
        let evidence = alerts[0]["evidence"] as? [[String: Any]] ?? []
        let network = try #require(evidence.first { $0["kind"] as? String == "network" })
        #expect(abs((network["weight"] as? Double ?? 0) - 3 * 1.083) < 1e-9)
        #expect(alerts[0]["jurisdictions"] as? [String] == ["CN"])
    }

    @Test func noLinkNoAlertWhileItRunsOrAfter() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let account = "222200002222"
        let alerts = try Self.run(
            [
                [runInstancesRecord(ids: ["i-0clean"], account: account, time: Self.time(1, 0))]
                    + Self.calls(account, hour: 1, count: 20, ip: "198.51.100.9"),
                [lifecycleRecord("TerminateInstances", ids: ["i-0clean"], account: account, time: Self.time(5, 0))],
                Self.calls(account, hour: 20, count: 1, ip: "198.51.100.9"),
            ], in: dir)
        #expect(alerts.isEmpty)
    }
}
