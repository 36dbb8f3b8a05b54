import Foundation
import TestSupport
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
            cloudTrailRecord(
                account: account, time: String(format: "2026-03-%02dT%02d:%02d:00Z", day, hour, $0 % 60), ip: ip)
        }
    }

    /// Writes one CloudTrail object per list of records, named so that they are read in order; runs
    /// `ingest` over them (with `config` as its config file); returns the alerts.
    static func run(
        _ files: [[String]], in dir: TemporaryDirectory, config: String = "", store: Bool = false,
        feed: String? = nil, extraGeoIP: String = "", environment: [String: String]? = nil
    ) throws -> [[String: Any]] {
        for (i, records) in files.enumerated() {
            _ = dir.write(String(format: "in/%03d.json", i), "{\"Records\":[" + records.joined(separator: ",") + "]}")
        }
        let output = store ? ["--store", dir.path + "/s.db"] : ["--no-store"]
        let intel = feed.map { ["--ip-intel", dir.write("f.csv", $0)] } ?? []
        let result = try BuiltBinary.run(
            ["ingest"] + output + intel + [
                "--jobs", "1", "--mappings", dir.write("m.csv", mappings), "--resellers", dir.write("r.csv", resellers),
                "--geoip", dir.write("g.csv", geoip + extraGeoIP), "--config", dir.write("c.conf", config),
                dir.path + "/in",
            ], environment: environment)
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
        func calls(day: Int, hour: Int, count: Int, ip: String) -> [String] {
            Self.calls(account, day: day, hour: hour, count: count, ip: ip)
        }
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
        // Without look-back on new calls from restricted countries, which would raise it on day 2 or 3.
        let alerts = try Self.run(files, in: dir, config: lookback ? "lookback_network = 0\n" : "lookback_days = 0\n")
        let resources = alerts.compactMap { (($0["session"] as? [String: Any])?["resource_ids"] as? [String])?.first }
        #expect(resources.filter { $0 == "i-0second" }.count == 1, "\(resources)")
        #expect(resources.filter { $0 == "i-0first" }.count == (lookback ? 1 : 0), "\(resources)")
        if lookback,
            let first = alerts.first(where: {
                (($0["session"] as? [String: Any])?["resource_ids"] as? [String])?.first == "i-0first"
            })
        {
            let session = try #require(first["session"] as? [String: Any])
            #expect(session["open"] as? Bool == false)
            #expect(session["end"] as? String == "2026-03-01T04:00:00Z")
            let evidence = first["evidence"] as? [[String: Any]] ?? []
            let note = try #require(evidence.first { $0["kind"] as? String == "lookback" })
            #expect(
                (note["detail"] as? String)?.contains("without an alert; assessed again at 2026-03-06") == true,
                "\(note)")
            #expect((note["detail"] as? String)?.contains("of the account alerted") == true, "\(note)")
            #expect(evidence.contains { $0["kind"] as? String == "network" })
        }
    }

    /// Look-back remembers a wide launch whole: twelve instances launched at once (twelve sessions, one a
    /// resource) and closed before the evidence added up all alert when the account does. It remembered
    /// 8 sessions an account before 2026-12-05: two launches of four, and a covert operator's first
    /// launches were forgotten by the time it alerted.
    @Test func aWideLaunchThatEndedBeforeTheEvidenceAlertsWhole() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let account = "222200002222"
        func calls(day: Int, hour: Int, count: Int, ip: String) -> [String] {
            Self.calls(account, day: day, hour: hour, count: count, ip: ip)
        }
        let wide = (0..<12).map { String(format: "i-0wide%02d", $0) }
        var files: [[String]] = [
            [runInstancesRecord(ids: wide, account: account, time: Self.time(1, 0))]
                + calls(day: 1, hour: 1, count: 20, ip: "198.51.100.9"),
            calls(day: 1, hour: 3, count: 40, ip: "203.0.113.40"),
            [lifecycleRecord("TerminateInstances", ids: wide, account: account, time: "2026-03-01T04:00:00Z")],
            calls(day: 1, hour: 20, count: 1, ip: "198.51.100.9"),
        ]
        for day in 2...6 { files.append(calls(day: day, hour: 3, count: 40, ip: "203.0.113.40")) }
        files.append(
            [runInstancesRecord(ids: ["i-0second"], account: account, time: "2026-03-06T05:00:00Z")]
                + calls(day: 6, hour: 5, count: 5, ip: "203.0.113.40"))
        files.append(calls(day: 6, hour: 20, count: 1, ip: "203.0.113.40"))
        let alerts = try Self.run(files, in: dir, config: "lookback_network = 0\n")
        let resources = alerts.compactMap { (($0["session"] as? [String: Any])?["resource_ids"] as? [String])?.first }
        #expect(resources.filter { $0.hasPrefix("i-0wide") }.sorted() == wide, "\(resources)")
        #expect(resources.filter { $0 == "i-0second" }.count == 1, "\(resources)")
    }

    /// A session that closed before the account made any call from China, and no other session after
    /// it: the next day's calls from China, beside calls through a VPN exit the feed lists, have it
    /// assessed again, and it alerts at that tick on the anonymising evidence, once, saying why. With
    /// `lookback_network = 0`, or without a feed (no evidence of hiding of its own), nothing raises it:
    /// no session runs for the calls to raise.
    @Test(arguments: [(true, true), (false, true), (true, false)])
    func aSessionThatEndedAlertsWhenLaterCallsShowAnOperatorHiding(network: Bool, feed: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let account = "222200002222"
        func calls(day: Int, hour: Int, count: Int, ip: String) -> [String] {
            Self.calls(account, day: day, hour: hour, count: count, ip: ip)
        }
        var files: [[String]] = [
            [runInstancesRecord(ids: ["i-0only"], account: account, time: Self.time(1, 0))]
                + calls(day: 1, hour: 1, count: 20, ip: "198.51.100.9"),
            [lifecycleRecord("TerminateInstances", ids: ["i-0only"], account: account, time: "2026-03-01T04:00:00Z")],
            calls(day: 1, hour: 20, count: 1, ip: "198.51.100.9"),
            calls(day: 2, hour: 2, count: 40, ip: "192.0.2.7"),  // a VPN exit in Singapore
            calls(day: 2, hour: 3, count: 40, ip: "203.0.113.40"),
            calls(day: 2, hour: 20, count: 1, ip: "192.0.2.7"),
        ]
        files.append(calls(day: 3, hour: 2, count: 1, ip: "192.0.2.7"))
        let listing =
            "network,is_anonymous,is_anonymous_vpn,is_hosting_provider,is_public_proxy,is_residential_proxy,is_tor_exit_node\n192.0.2.0/24,1,1,0,0,0,0\n"
        let alerts = try Self.run(
            files, in: dir, config: network ? "" : "lookback_network = 0\n",
            feed: feed ? listing : nil, extraGeoIP: "192.0.2.0,192.0.2.255,SG\n")
        try #require(alerts.count == (network && feed ? 1 : 0), "\(alerts)")
        guard network && feed else { return }
        let session = try #require(alerts[0]["session"] as? [String: Any])
        #expect((session["resource_ids"] as? [String]) == ["i-0only"])
        #expect(session["open"] as? Bool == false)
        let evidence = alerts[0]["evidence"] as? [[String: Any]] ?? []
        let note = try #require(evidence.first { $0["kind"] as? String == "lookback" })
        // The first tick with calls from China.
        #expect(
            (note["detail"] as? String)?.contains("assessed again at 2026-03-02T03:05:00Z") == true, "\(note)")
        #expect((note["detail"] as? String)?.contains("it made new calls from restricted countries") == true)
        let hiding = try #require(evidence.first { $0["kind"] as? String == "anonymous-network" }?["weight"] as? Double)
        #expect(hiding > 0)
        #expect(alerts[0]["jurisdictions"] as? [String] == ["CN"])
    }

    /// A session that closed before the account made any call from China, no feed: from that evening, calls
    /// from China on four days `every` days apart (no trip: nothing seen elsewhere a day before them or
    /// after). With `lookback_network_weight` 6 (the default) the account's share reaches the network's cap on the fourth
    /// day; once they span more than a trip's 14 days (`trip_days`), the ended session is assessed again and
    /// alerts, on network evidence alone. Four days in a row are as a traveller's mid-trip, not yet seen
    /// home again: nothing. Nor does a share an office explains (5 calls a day from China beside 60 from the
    /// US), nor anything at 0 (never).
    @Test(arguments: [("6", 40, 5, true), ("6", 40, 1, false), ("6", 5, 5, false), ("0", 40, 5, false)])
    func aSessionThatEndedAlertsWhenLaterCallsFromChinaAddUp(
        weight: String, fromChina: Int, every: Int, alerts: Bool
    ) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let account = "222200002222"
        func calls(day: Int, hour: Int, count: Int, ip: String) -> [String] {
            Self.calls(account, day: day, hour: hour, count: count, ip: ip)
        }
        var files: [[String]] = [
            [runInstancesRecord(ids: ["i-0early"], account: account, time: Self.time(1, 0))]
                + calls(day: 1, hour: 1, count: 20, ip: "198.51.100.9"),
            [lifecycleRecord("TerminateInstances", ids: ["i-0early"], account: account, time: "2026-03-01T04:00:00Z")],
        ]
        let days = (0..<4).map { 1 + $0 * every }
        for day in days {
            files.append(calls(day: day, hour: 20, count: fromChina, ip: "203.0.113.40"))
            if fromChina < 40 { files.append(calls(day: day, hour: 21, count: 60, ip: "198.51.100.9")) }
        }
        files.append(calls(day: days[3] + 1, hour: 20, count: 1, ip: "203.0.113.40"))
        let found = try Self.run(files, in: dir, config: "lookback_network_weight = \(weight)\n")
        try #require(found.count == (alerts ? 1 : 0), "\(found)")
        guard alerts else { return }
        let session = try #require(found[0]["session"] as? [String: Any])
        #expect((session["resource_ids"] as? [String]) == ["i-0early"])
        let evidence = found[0]["evidence"] as? [[String: Any]] ?? []
        let note = try #require(evidence.first { $0["kind"] as? String == "lookback" }?["detail"] as? String)
        // The first tick of the fourth day's calls from China (day 16: 15 days after the first).
        #expect(note.contains("assessed again at 2026-03-16T20:"), "\(note)")
        #expect(note.contains("it made new calls from restricted countries"))
        let network = try #require(evidence.first { $0["kind"] as? String == "network" }?["weight"] as? Double)
        #expect(abs(network - 6 * 1.083) < 1e-9, "\(network)")
        #expect(!evidence.contains { $0["kind"] as? String == "anonymous-network" })
        #expect(found[0]["jurisdictions"] as? [String] == ["CN"])
    }

    /// A lab on Iran's week and clock (Saturday to Thursday, 09:30–16:30 at UTC+3:30), all its calls from US
    /// addresses, whose one job ran on its first morning: when the job ended, a day of hours said nothing. Once
    /// two weeks of its hours are seen, the ended session is assessed again and alerts on the week's evidence,
    /// naming Iran, once, saying why; with `week_weight = 0`, nothing.
    @Test(arguments: [true, false])
    func aSessionThatEndedAlertsWhenTheAccountsWeekNamesIran(week: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let account = "222200002222"
        var files: [[String]] = [
            [runInstancesRecord(ids: ["i-0lab"], account: account, time: "2026-03-01T06:00:00Z")]
                + Self.calls(account, day: 1, hour: 6, count: 3, ip: "198.51.100.9"),
            [lifecycleRecord("TerminateInstances", ids: ["i-0lab"], account: account, time: "2026-03-01T08:00:00Z")],
        ]
        // 2026-03-01 is a Sunday: Fridays are the 6th, 13th and 20th.
        for day in 1...21 where day % 7 != 6 {
            files.append((6...12).flatMap { Self.calls(account, day: day, hour: $0, count: 3, ip: "198.51.100.9") })
        }
        var environment = ProcessInfo.processInfo.environment
        environment["CHIPTRAIL_EVIDENCE_LOG"] = dir.path + "/evidence.jsonl"
        let alerts = try Self.run(
            files, in: dir, config: week ? "" : "week_weight = 0\n", environment: environment)
        try #require(alerts.count == (week ? 1 : 0), "\(alerts)")
        guard week else { return }
        // The evidence log keeps the week's detail under its family (its kind, time, is the time zone's too).
        let log = try String(contentsOfFile: dir.path + "/evidence.jsonl", encoding: .utf8)
        let logged = try log.split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["alerts"] as? Bool == true }
        let details = try #require(logged.last?["details"] as? [String: String], "\(logged)")
        #expect(details["week"]?.hasPrefix("keeps IR's working week") == true, "\(details)")
        #expect(alerts[0]["jurisdictions"] as? [String] == ["IR"])
        let evidence = alerts[0]["evidence"] as? [[String: Any]] ?? []
        let note = try #require(evidence.first { $0["kind"] as? String == "lookback" }?["detail"] as? String)
        #expect(note.contains("its working week came to name a restricted country"), "\(note)")
        let time = try #require(evidence.first { $0["kind"] as? String == "time" }?["detail"] as? String)
        #expect(time.hasPrefix("keeps IR's working week and clock: rests on Friday"), "\(time)")
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
            ids.append(
                alerts.compactMap { (($0["session"] as? [String: Any])?["resource_ids"] as? [String])?.first }.sorted())
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
        func calls(day: Int, hour: Int, count: Int, ip: String) -> [String] {
            Self.calls(account, day: day, hour: hour, count: count, ip: ip)
        }
        let alerts = try Self.run(
            [
                [runInstancesRecord(ids: ["i-0covert"], account: account, time: Self.time(1, 0))]
                    + calls(day: 1, hour: 1, count: 20, ip: "198.51.100.9"),
                calls(day: 1, hour: 3, count: 40, ip: "203.0.113.40"),
                calls(day: 2, hour: 3, count: 40, ip: "203.0.113.40"),
                calls(day: 3, hour: 3, count: 40, ip: "203.0.113.40"),
                [
                    lifecycleRecord(
                        "TerminateInstances", ids: ["i-0covert"], account: account, time: "2026-03-03T05:00:00Z")
                ],
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

    /// Carry: an account that alerted stays alerted for its later sessions while their own evidence still
    /// names a restricted jurisdiction. Three days of calls from China raise the first run while it runs;
    /// once the account is seen from the US for a week after them, a trip explains them as well (the
    /// network evidence capped), and the later run scores under the threshold by itself. It alerts,
    /// carrying the account's alert (its score its own, an evidence item saying whose alert it carries);
    /// with `lookback_carry = 0` it raises nothing.
    @Test(arguments: [true, false])
    func aLaterSessionOfAnAccountThatAlertedCarriesItsAlert(carry: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let account = "222200002222"
        func calls(day: Int, hour: Int, count: Int, ip: String) -> [String] {
            Self.calls(account, day: day, hour: hour, count: count, ip: ip)
        }
        var files: [[String]] = [
            [runInstancesRecord(ids: ["i-0first"], account: account, time: Self.time(1, 0))]
                + calls(day: 1, hour: 1, count: 20, ip: "198.51.100.9"),
            calls(day: 1, hour: 3, count: 40, ip: "203.0.113.40"),
            calls(day: 2, hour: 3, count: 40, ip: "203.0.113.40"),
            calls(day: 3, hour: 3, count: 40, ip: "203.0.113.40"),
            [lifecycleRecord("TerminateInstances", ids: ["i-0first"], account: account, time: "2026-03-03T05:00:00Z")],
        ]
        for day in 5...12 { files.append(calls(day: day, hour: 9, count: 20, ip: "198.51.100.9")) }
        files.append(
            [runInstancesRecord(ids: ["i-0later"], account: account, time: "2026-03-12T10:00:00Z")]
                + calls(day: 12, hour: 10, count: 5, ip: "198.51.100.9"))
        files.append([
            lifecycleRecord("TerminateInstances", ids: ["i-0later"], account: account, time: "2026-03-12T14:00:00Z")
        ])
        files.append(calls(day: 13, hour: 20, count: 1, ip: "198.51.100.9"))
        let alerts = try Self.run(files, in: dir, config: carry ? "" : "lookback_carry = 0\n")
        func resource(_ alert: [String: Any]) -> String? {
            ((alert["session"] as? [String: Any])?["resource_ids"] as? [String])?.first
        }
        #expect(alerts.filter { resource($0) == "i-0first" }.count == 1, "\(alerts)")
        let later = alerts.filter { resource($0) == "i-0later" }
        #expect(later.count == (carry ? 1 : 0), "\(alerts)")
        if carry, let alert = later.first {
            #expect((alert["score"] as? Double ?? 1) < 0.5, "\(alert)")
            #expect(alert["jurisdictions"] as? [String] == ["CN"])
            let evidence = alert["evidence"] as? [[String: Any]] ?? []
            let network = try #require(evidence.first { $0["kind"] as? String == "network" })
            #expect((network["detail"] as? String)?.contains("a trip explains them as well") == true, "\(network)")
            let note = try #require(evidence.first { $0["kind"] as? String == "carried" })
            #expect(note["weight"] as? Double == 0)
            #expect(
                (note["detail"] as? String)?.contains("the account alerted at 2026-03-02T03:05:00Z") == true, "\(note)")
        }
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

/// A ring is seen once enough of its accounts are: the first account's session ended before its
/// peers appeared, so it raised nothing then. When a later account alerts with ring evidence, the
/// accounts that evidence counted are looked at again, as the alerting account's own earlier sessions
/// are: the first account's session alerts too, once, saying when and why.
@Suite struct RingLookBackTests {
    /// The third account onboarded before the first one's session (`thirdOnboarded` 02-25) or after it
    /// began (03-02: its mapping was not yet valid when that session started).
    static func mappings(thirdOnboarded: String) -> String {
        """
        provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to
        aws,710000000001,RS-TH,C-1,AE,2026-02-20T00:00:00Z,
        aws,710000000002,RS-TH,C-2,MY,2026-02-22T00:00:00Z,
        aws,710000000003,RS-TH,C-3,ID,\(thirdOnboarded)T00:00:00Z,

        """
    }
    static let resellers =
        "reseller_id,name,country,parent_id,serves_countries\nRS-TH,TH Co,TH,DIST-CN,TH\nDIST-CN,CN Co,CN,,CN\n"
    static let geoip = "198.51.0.0,198.51.255.255,US\n"

    /// A call of `account` as `who` (its principal name and access key), from `ip`, with `agent`.
    static func call(_ account: String, _ time: String, who: String, ip: String, agent: String, record: String? = nil)
        -> String
    {
        (record ?? cloudTrailRecord(account: account, time: time, ip: ip))
            .replacingOccurrences(of: "ops/alice", with: "ops/\(who)")
            .replacingOccurrences(of: "AROAEXAMPLE:alice", with: "AROAEXAMPLE:\(who)")
            .replacingOccurrences(of: "ASIAEXAMPLE", with: "ASIA\(who.uppercased())")
            .replacingOccurrences(of: "aws-cli/2.15", with: agent)
    }

    static let ring = ["710000000001", "710000000002", "710000000003"]
    static let ringAgent = "gpu-runner/0.9.4 (linux; custom)"

    /// `record` (a lifecycle call of `account`) made by the ring's one operator, host and tool.
    static func ringCall(_ account: String, _ record: String) -> String {
        call(account, "", who: "ringop", ip: "198.51.77.7", agent: ringAgent, record: record)
    }

    /// `count` calls of a ring account on `day`, by the ring's one operator, host and tool.
    static func ringCalls(_ account: String, day: Int, count: Int) -> [String] {
        (0..<count).map {
            call(
                account, String(format: "2026-03-%02dT%02d:%02d:00Z", day, 1 + $0 / 60, $0 % 60), who: "ringop",
                ip: "198.51.77.7", agent: ringAgent)
        }
    }

    /// Day 1: thirty unrelated accounts, each its own person, address and tool; the ring's first two.
    static func firstDay() -> [String] {
        var day1: [String] = []
        for k in 0..<30 {
            let account = String(format: "7200000000%02d", k)
            for s in 0..<6 {
                day1.append(
                    call(
                        account, String(format: "2026-03-01T01:%02d:00Z", s), who: "user\(k)", ip: "198.51.\(k).1",
                        agent: "tool\(k)/1.\(k)"))
            }
        }
        return day1 + ringCalls(ring[0], day: 1, count: 10) + ringCalls(ring[1], day: 1, count: 10)
    }

    @Test(arguments: [(true, "2026-02-25"), (false, "2026-02-25"), (true, "2026-03-02")])
    func theFirstAccountOfARingAlertsWhenTheRingIsSeen(lookback: Bool, thirdOnboarded: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let ring = Self.ring
        let day1 = Self.firstDay()
        let first = Self.call(
            ring[0], "", who: "ringop", ip: "198.51.77.7", agent: "gpu-runner/0.9.4 (linux; custom)",
            record: runInstancesRecord(ids: ["i-0ringfirst"], account: ring[0], time: "2026-03-01T02:00:00Z"))
        let stop = Self.call(
            ring[0], "", who: "ringop", ip: "198.51.77.7", agent: "gpu-runner/0.9.4 (linux; custom)",
            record: lifecycleRecord(
                "TerminateInstances", ids: ["i-0ringfirst"], account: ring[0], time: "2026-03-01T04:00:00Z"))
        var files: [[String]] = [
            day1 + [first], [stop],
            Self.ringCalls(ring[1], day: 1, count: 1).map {
                $0.replacingOccurrences(of: "2026-03-01T01:00:00Z", with: "2026-03-01T20:00:00Z")
            },
        ]
        // Day 3: the third account appears, run alike, and launches.
        let third = Self.call(
            ring[2], "", who: "ringop", ip: "198.51.77.7", agent: "gpu-runner/0.9.4 (linux; custom)",
            record: runInstancesRecord(ids: ["i-0ringthird"], account: ring[2], time: "2026-03-03T03:00:00Z"))
        files.append(Self.ringCalls(ring[2], day: 3, count: 10) + [third])
        files.append(
            Self.ringCalls(ring[1], day: 3, count: 1).map {
                $0.replacingOccurrences(of: "2026-03-03T01:00:00Z", with: "2026-03-03T20:00:00Z")
            })
        for (i, records) in files.enumerated() {
            _ = dir.write(String(format: "in/%03d.json", i), "{\"Records\":[" + records.joined(separator: ",") + "]}")
        }
        let result = try BuiltBinary.run([
            "ingest", "--no-store", "--jobs", "1", "--mappings",
            dir.write("m.csv", Self.mappings(thirdOnboarded: thirdOnboarded)), "--resellers",
            dir.write("r.csv", Self.resellers), "--geoip", dir.write("g.csv", Self.geoip), "--config",
            dir.write("c.conf", lookback ? "" : "lookback_days = 0\n"), dir.path + "/in",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let alerts = try EndToEndTests.alerts(result.stdout)
        func resource(_ alert: [String: Any]) -> String? {
            ((alert["session"] as? [String: Any])?["resource_ids"] as? [String])?.first
        }
        let third3 = try #require(alerts.first { resource($0) == "i-0ringthird" }, "\(result.stdout)")
        let evidence3 = third3["evidence"] as? [[String: Any]] ?? []
        #expect(evidence3.contains { $0["kind"] as? String == "ring" }, "\(evidence3)")
        let firsts = alerts.filter { resource($0) == "i-0ringfirst" }
        #expect(firsts.count == (lookback ? 1 : 0), "\(result.stdout)")
        if let alert = firsts.first {
            let evidence = alert["evidence"] as? [[String: Any]] ?? []
            let ringEvidence = try #require(evidence.first { $0["kind"] as? String == "ring" })
            #expect((ringEvidence["detail"] as? String)?.contains(ring[2]) == true, "\(ringEvidence)")
            let note = try #require(evidence.first { $0["kind"] as? String == "lookback" })
            let detail = note["detail"] as? String ?? ""
            #expect(detail.contains("ended 2026-03-01T04:00:00Z without an alert"), "\(detail)")
            #expect(detail.contains("of account \(ring[2]), which counted this one in its ring"), "\(detail)")
        }
    }
}

extension RingLookBackTests {
    /// The first account's session still runs when the ring is seen: it alerts at the tick of the ring's
    /// alert, as `tail` can, and not only at the end of `ingest`'s input, a moment `tail` never has (the
    /// one difference `Scripts/check-tail-determinism` found on world seed 4 at 200 accounts: a ring
    /// member's instance launched days before its peers', never stopped, alerted by `ingest` alone).
    @Test func aRingMembersRunningSessionAlertsWhenTheRingIsSeen() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let ring = Self.ring
        let agent = Self.ringAgent
        let day1 = Self.firstDay()
        // The first account's instance starts on day 1 and is never stopped.
        let first = Self.call(
            ring[0], "", who: "ringop", ip: "198.51.77.7", agent: agent,
            record: runInstancesRecord(ids: ["i-0ringfirst"], account: ring[0], time: "2026-03-01T02:00:00Z"))
        let third = Self.call(
            ring[2], "", who: "ringop", ip: "198.51.77.7", agent: agent,
            record: runInstancesRecord(ids: ["i-0ringthird"], account: ring[2], time: "2026-03-03T03:00:00Z"))
        // Days later, an unrelated account's call: the end of the input is well after the ring was seen.
        let files: [[String]] = [
            day1 + [first], Self.ringCalls(ring[2], day: 3, count: 10) + [third],
            [Self.call("720000000001", "2026-03-09T12:00:00Z", who: "user1", ip: "198.51.1.1", agent: "tool1/1.1")],
        ]
        for (i, records) in files.enumerated() {
            _ = dir.write(String(format: "in/%03d.json", i), "{\"Records\":[" + records.joined(separator: ",") + "]}")
        }
        let result = try BuiltBinary.run([
            "ingest", "--no-store", "--jobs", "1", "--mappings",
            dir.write("m.csv", Self.mappings(thirdOnboarded: "2026-02-25")), "--resellers",
            dir.write("r.csv", Self.resellers), "--geoip", dir.write("g.csv", Self.geoip), dir.path + "/in",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let alerts = try EndToEndTests.alerts(result.stdout)
        func session(_ alert: [String: Any]) -> [String: Any] { alert["session"] as? [String: Any] ?? [:] }
        let firsts = alerts.filter { (session($0)["resource_ids"] as? [String])?.first == "i-0ringfirst" }
        #expect(firsts.count == 1, "\(result.stdout)")
        let alert = try #require(firsts.first)
        let evidence = alert["evidence"] as? [[String: Any]] ?? []
        #expect(evidence.contains { $0["kind"] as? String == "ring" }, "\(evidence)")
        // Raised while it ran, at the ring's tick on day 3, not at the end of the input on day 9.
        #expect(session(alert)["open"] as? Bool == true)
        let end = session(alert)["end"] as? String ?? ""
        #expect(end.hasPrefix("2026-03-03"), "raised with the session's end at \(end)")
    }
}

extension RingLookBackTests {
    /// An account under the ring's reseller that delivers billing only (no audit trail: nothing of its own
    /// says whether it is run alike with the ring) ran a p5 on day 1, before the ring was seen: when the
    /// third account alerts on day 3, its remembered session is assessed again with the ring of its
    /// reseller's cohort and alerts, saying why. One under a reseller whose chain reaches no restricted
    /// country, billing alike, does not; nor does any with `ring_trailless = 0`.
    @Test(arguments: [true, false]) func aBillingOnlyAccountUnderARingsResellerAlertsWhenTheRingIsSeen(
        trailless: Bool
    ) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let ring = Self.ring
        // The ring's accounts use restricted accelerators: the first on day 1, the second beside the third.
        let first = Self.ringCall(
            ring[0], runInstancesRecord(ids: ["i-0ringfirst"], account: ring[0], time: "2026-03-01T02:00:00Z"))
        let stop = Self.ringCall(
            ring[0],
            lifecycleRecord("TerminateInstances", ids: ["i-0ringfirst"], account: ring[0], time: "2026-03-01T04:00:00Z")
        )
        let second = Self.ringCall(
            ring[1], runInstancesRecord(ids: ["i-0ringsecond"], account: ring[1], time: "2026-03-03T02:30:00Z"))
        let third = Self.ringCall(
            ring[2], runInstancesRecord(ids: ["i-0ringthird"], account: ring[2], time: "2026-03-03T03:00:00Z"))
        // Day 2: an unrelated account's call (the billing-only session closes, the ring not yet seen).
        let files: [[String]] = [
            Self.firstDay() + [first, stop],
            [Self.call("720000000001", "2026-03-02T12:00:00Z", who: "user1", ip: "198.51.1.1", agent: "tool1/1.1")],
            Self.ringCalls(ring[2], day: 3, count: 10) + [second, third],
            Self.ringCalls(ring[1], day: 3, count: 1).map {
                $0.replacingOccurrences(of: "2026-03-03T01:00:00Z", with: "2026-03-03T20:00:00Z")
            },
        ]
        for (i, records) in files.enumerated() {
            _ = dir.write(String(format: "in/%03d.json", i), "{\"Records\":[" + records.joined(separator: ",") + "]}")
        }
        // The billing export, read before the trail (no delivery time in its name): four hours of a p5 on day 1
        // for each of the two billing-only accounts.
        var cur =
            "lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/UsageType,lineItem/ResourceId,lineItem/UsageAmount,product/instanceType,pricing/unit\n"
        for (account, resource) in [("710000000004", "i-0trailless"), ("760000000001", "i-0elsewhere")] {
            for hour in 5..<9 {
                cur +=
                    "\(account),Usage,2026-03-01T\(String(format: "%02d", hour)):00:00Z,2026-03-01T\(String(format: "%02d", hour + 1)):00:00Z,BoxUsage:p5.48xlarge,\(resource),1,p5.48xlarge,Hrs\n"
            }
        }
        _ = dir.write("in/000-billing.csv", cur)
        let mappings =
            Self.mappings(thirdOnboarded: "2026-02-25")
            + "aws,710000000004,RS-TH,C-4,TH,2026-02-24T00:00:00Z,\naws,760000000001,RS-FR,C-5,TH,2026-02-24T00:00:00Z,\n"
        let result = try BuiltBinary.run([
            "ingest", "--no-store", "--jobs", "1", "--mappings", dir.write("m.csv", mappings), "--resellers",
            dir.write("r.csv", Self.resellers + "RS-FR,FR SA,FR,,FR\n"), "--geoip", dir.write("g.csv", Self.geoip),
            "--config", dir.write("c.conf", trailless ? "" : "ring_trailless = 0\n"), dir.path + "/in",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let alerts = try EndToEndTests.alerts(result.stdout)
        func resource(_ alert: [String: Any]) -> String? {
            ((alert["session"] as? [String: Any])?["resource_ids"] as? [String])?.first
        }
        #expect(alerts.contains { resource($0) == "i-0ringthird" }, "\(result.stdout)")
        #expect(!alerts.contains { resource($0) == "i-0elsewhere" }, "\(result.stdout)")
        let alerted = alerts.filter { resource($0) == "i-0trailless" }
        #expect(alerted.count == (trailless ? 1 : 0), "\(result.stdout)")
        guard trailless else { return }
        let evidence = alerted.first?["evidence"] as? [[String: Any]] ?? []
        let ringDetail = evidence.first { $0["kind"] as? String == "ring" }?["detail"] as? String ?? ""
        #expect(ringDetail.hasPrefix("no audit trail read from this account so far, only billing"), "\(evidence)")
        #expect(ringDetail.contains("\(ring[0]), \(ring[1]), \(ring[2])"), "\(ringDetail)")
        let note = evidence.first { $0["kind"] as? String == "lookback" }?["detail"] as? String ?? ""
        #expect(note.contains("of account \(ring[2]), a ring's member under its reseller, alerted"), "\(alerted)")
    }
}

/// An account run by the people of a CN-declared account, declared in the US, whose one restricted
/// session ended before it was seen sharing their names, host and tools: when it comes to share them,
/// its remembered session is assessed again and alerts on the shared identity, saying when and why
/// (`lookback_identity_holders`; 0: never).
@Suite struct IdentityLookBackTests {
    static let mappings = """
        provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to
        aws,730000000001,,C-1,CN,2026-01-01T00:00:00Z,
        aws,730000000002,,C-2,US,2026-01-01T00:00:00Z,

        """

    static func calls(_ account: String, day: Int, hour: Int, count: Int, who: String, ip: String, agent: String)
        -> [String]
    {
        (0..<count).map {
            RingLookBackTests.call(
                account, String(format: "2026-03-%02dT%02d:%02d:00Z", day, hour, $0 % 60), who: who, ip: ip,
                agent: agent)
        }
    }

    @Test(arguments: [true, false])
    func anAccountThatComesToShareADeclaredAccountsPeopleAlertsOnItsEndedSession(lookback: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let (anchor, front) = ("730000000001", "730000000002")
        let tool = "gpu-runner/0.9.4 (linux; custom)"
        // Day 1: thirty unrelated accounts, each its own person, address and tool; the CN-declared
        // account's person; the front account's own person, who launches and stops.
        var day1: [String] = []
        for k in 0..<30 {
            day1 += Self.calls(
                String(format: "7400000000%02d", k), day: 1, hour: 1, count: 6, who: "person\(k)",
                ip: "198.51.\(k).1", agent: "tool\(k)/1.\(k)")
        }
        day1 += Self.calls(anchor, day: 1, hour: 1, count: 20, who: "wei.zhang", ip: "198.51.77.7", agent: tool)
        day1 += Self.calls(
            front, day: 1, hour: 1, count: 20, who: "kim.lee", ip: "198.51.88.8", agent: "aws-cli/2.15.30 Python/3.11.8"
        )
        let launch = RingLookBackTests.call(
            front, "", who: "kim.lee", ip: "198.51.88.8", agent: "aws-cli/2.15.30 Python/3.11.8",
            record: runInstancesRecord(ids: ["i-0front"], account: front, time: "2026-03-01T02:00:00Z"))
        let stop = RingLookBackTests.call(
            front, "", who: "kim.lee", ip: "198.51.88.8", agent: "aws-cli/2.15.30 Python/3.11.8",
            record: lifecycleRecord(
                "TerminateInstances", ids: ["i-0front"], account: front, time: "2026-03-01T04:00:00Z"))
        let files: [[String]] = [
            day1 + [launch], [stop],
            Self.calls(
                front, day: 1, hour: 20, count: 1, who: "kim.lee", ip: "198.51.88.8",
                agent: "aws-cli/2.15.30 Python/3.11.8"),
            // Day 3: the CN-declared account's person works in the front account, from its host, with its tool.
            Self.calls(front, day: 3, hour: 3, count: 10, who: "wei.zhang", ip: "198.51.77.7", agent: tool),
        ]
        for (i, records) in files.enumerated() {
            _ = dir.write(String(format: "in/%03d.json", i), "{\"Records\":[" + records.joined(separator: ",") + "]}")
        }
        let result = try BuiltBinary.run([
            "ingest", "--no-store", "--jobs", "1", "--mappings", dir.write("m.csv", Self.mappings), "--resellers",
            dir.write("r.csv", RingLookBackTests.resellers), "--geoip", dir.write("g.csv", RingLookBackTests.geoip),
            "--config", dir.write("c.conf", lookback ? "" : "lookback_identity_holders = 0\n"), dir.path + "/in",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let alerts = try EndToEndTests.alerts(result.stdout)
        let fronts = alerts.filter { ($0["account_id"] as? String) == front }
        #expect(fronts.count == (lookback ? 1 : 0), "\(result.stdout)")
        if let alert = fronts.first {
            let evidence = alert["evidence"] as? [[String: Any]] ?? []
            let shared = try #require(evidence.first { $0["kind"] as? String == "shared-identity" })
            #expect((shared["detail"] as? String)?.contains("account \(anchor)") == true, "\(shared)")
            let note = try #require(evidence.first { $0["kind"] as? String == "lookback" })
            let detail = note["detail"] as? String ?? ""
            #expect(detail.contains("ended 2026-03-01T04:00:00Z without an alert"), "\(detail)")
            #expect(detail.contains("when it came to share a rare identifier with another account"), "\(detail)")
        }
    }
}
