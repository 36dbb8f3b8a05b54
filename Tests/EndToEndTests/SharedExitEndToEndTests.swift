import Foundation
import TestSupport
import Testing

/// `shared_exit_accounts`: without a feed, a call through an address that many accounts of the population
/// call from counts as through an anonymising network (a VPN's or a proxy's exit carries many unrelated
/// customers' calls), as a listed one would.
@Suite struct SharedExitEndToEndTests {
    static let exit = "192.0.2.9"
    static let china = "203.0.113.5"

    static func text(_ seconds: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// `others` unrelated accounts, each with its own person, key and office address (US), call through
    /// the exit (SG) now and then on the first two days; then an unmapped account calls from China on
    /// ten days and through the exit the rest of the time, and runs a p5 for eight hours.
    static func trail(others: Int) -> String {
        var records: [String] = []
        func call(_ account: String, _ person: String, _ ip: String, _ time: Int64) {
            records.append(
                cloudTrailRecord(account: account, time: Self.text(time), ip: ip)
                    .replacingOccurrences(of: "ops/alice", with: "ops/\(person)")
                    .replacingOccurrences(of: "AROAEXAMPLE:alice", with: "AROAEXAMPLE:\(person)")
                    .replacingOccurrences(of: "ASIAEXAMPLE", with: "ASIA\(account)"))
        }
        let start: Int64 = 1_772_323_200  // 2026-03-01T00:00:00Z
        for i in 0..<others {
            let account = String(format: "5000000000%02d", i)
            for k in 0..<20 {
                let time = start + Int64(k) * 7_200 + Int64(i) * 60
                call(account, "person\(i)", k % 4 == 0 ? exit : "198.51.100.\(10 + i)", time)
            }
        }
        let covert = "777777777777"
        for day in 3..<13 {
            for k in 0..<15 {
                let time = start + Int64(day) * 86_400 + 3_600 + Int64(k) * 1_800
                call(covert, "wei.zhang", k < 3 ? china : exit, time)
            }
        }
        let launch = start + 12 * 86_400 + 2 * 3_600
        records.append(runInstancesRecord(ids: ["i-0c0ffee000000001"], account: covert, time: Self.text(launch)))
        records.append(
            lifecycleRecord(
                "TerminateInstances", ids: ["i-0c0ffee000000001"], account: covert,
                time: Self.text(launch + 8 * 3_600)))
        return "{\"Records\":[" + records.joined(separator: ",") + "]}"
    }

    static func run(others: Int, setting: String?) throws -> [[String: Any]] {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let trail = dir.write("trail.json", trail(others: others))
        let geoip = dir.write(
            "geoip.csv", "192.0.2.0,192.0.2.255,SG\n198.51.100.0,198.51.100.255,US\n203.0.113.0,203.0.113.255,CN\n")
        let config = dir.write("chiptrail.conf", "min_score = 0.01\n" + (setting.map { $0 + "\n" } ?? ""))
        let result = try BuiltBinary.run(
            ["ingest", "--no-store", "--quiet", "--geoip", geoip, "--config", config, trail], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        return try EndToEndTests.alerts(result.stdout)
    }

    static func evidence(_ alerts: [[String: Any]], _ kind: String) -> [String: Any]? {
        let covert = alerts.first { $0["account_id"] as? String == "777777777777" }
        return (covert?["evidence"] as? [[String: Any]])?.first { $0["kind"] as? String == kind }
    }

    /// Twelve accounts showed the exit: the operator's calls through it are left out of its network share
    /// and weigh as hiding where it is, named as addresses many accounts share. At the session's close 139
    /// of its calls are counted (the last day's after its stop are not): 30 from China, 108 through the
    /// exit and its launch from an office address in the US.
    @Test func callsThroughAnAddressManyAccountsShareCountAsThroughAnExit() throws {
        let alerts = try Self.run(others: 12, setting: nil)
        let hidden = try #require(Self.evidence(alerts, "anonymous-network"), "\(alerts)")
        #expect(
            (hidden["detail"] as? String)?.hasPrefix(
                "78% of located calls through anonymising networks (addresses many accounts share 78%): 108 of 139")
                == true, "\(hidden)")
        let network = try #require(Self.evidence(alerts, "network"))
        #expect(
            (network["detail"] as? String)?.hasPrefix(
                "30 of 31 located calls (leaving out 108 through anonymising networks elsewhere)") == true,
            "\(network)")
    }

    /// The same calls where the exit is shown by fewer accounts than `shared_exit_accounts` (two others and
    /// the operator's own, of 5),
    /// or with the reading off: an address, not an exit; the share is 30 of 139.
    @Test(
        arguments: [(2, nil), (12, "shared_exit_accounts = 0"), (12, "shared_exit_accounts = 14")] as [(Int, String?)])
    func anAddressFewerAccountsShowIsNoExit(others: Int, setting: String?) throws {
        let alerts = try Self.run(others: others, setting: setting)
        #expect(Self.evidence(alerts, "anonymous-network") == nil, "\(alerts)")
        let network = try #require(Self.evidence(alerts, "network"), "\(alerts)")
        #expect(
            (network["detail"] as? String)?.hasPrefix("30 of 139 located calls from restricted") == true, "\(network)")
    }
}
