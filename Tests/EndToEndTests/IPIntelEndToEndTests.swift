import Foundation
import TestSupport
import Testing

/// `--ip-intel`: an IP-intelligence feed read whole before anything, its look-up on every call, and
/// its evidence in the alerts; without a feed (or with one that lists none of the calls' addresses)
/// the alerts are byte for byte what they were.
@Suite struct IPIntelEndToEndTests {
    static let header =
        "network,is_anonymous,is_anonymous_vpn,is_hosting_provider,is_public_proxy,is_residential_proxy,is_tor_exit_node\n"

    @Test func aFeedListingNoneOfTheCallsChangesNoByte() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let feed = dir.write("unused.csv", Self.header + "10.0.0.0/8,1,1,0,0,0,0\n2001:db8:ff00::/40,1,0,1,0,0,0\n")
        let without = try BuiltBinary.run(EndToEndTests.sampleArguments(["--quiet"]), timeout: 120)
        let with = try BuiltBinary.run(
            EndToEndTests.sampleArguments(["--quiet", "--ip-intel", feed]), timeout: 120)
        #expect(without.status == 0 && with.status == 0, "\(with.stderr)")
        #expect(without.stdout.split(separator: "\n").count == 4)
        #expect(with.stdout == without.stdout)
    }

    /// Account 333333333333 (40% of its calls from China) calls otherwise from 198.51.100.0/24 (US):
    /// listed as a VPN provider's, its alert names the share through anonymising networks, as its own
    /// evidence and in the network evidence, whose share leaves those calls out.
    @Test func aListedRangeBecomesEvidenceInTheAlert() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let feed = dir.write("vpn.csv", Self.header + "198.51.100.0/24,1,1,0,0,0,0\n")
        let result = try BuiltBinary.run(EndToEndTests.sampleArguments(["--quiet", "--ip-intel", feed]), timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let alerts = try EndToEndTests.alerts(result.stdout)
        let covert = try #require(alerts.first { $0["account_id"] as? String == "333333333333" })
        let evidence = try #require(covert["evidence"] as? [[String: Any]])
        let hidden = try #require(evidence.first { $0["kind"] as? String == "anonymous-network" })
        #expect(
            (hidden["detail"] as? String)?.hasPrefix("59% of located calls through anonymising networks (VPN 59%)")
                == true)
        #expect((hidden["weight"] as? Double ?? 0) > 0)
        let network = try #require(evidence.first { $0["kind"] as? String == "network" })
        #expect(
            (network["detail"] as? String)?.contains("leaving out 215 through anonymising networks elsewhere") == true)
        // The other accounts' alerts do not use the range.
        #expect(alerts.count == 4)
    }

    /// The same range listed as a hosting provider's (a data centre): by default its calls are still left out of
    /// the network share, but weigh nothing as hiding (`anonymous_hosting_share` 0: a company's servers in other
    /// clouds hide nothing); at 1 they weigh as a VPN's, and the evidence says hosting.
    @Test(arguments: [false, true])
    func aHostingRangeWeighsAsHidingOnlyWhenTold(counted: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let feed = dir.write("hosting.csv", Self.header + "198.51.100.0/24,1,0,1,0,0,0\n")
        var arguments = EndToEndTests.sampleArguments(["--quiet", "--ip-intel", feed])
        if counted {
            let base = try String(contentsOfFile: EndToEndTests.sample + "/chiptrail.conf", encoding: .utf8)
            let config = dir.write("c.conf", base + "\nanonymous_hosting_share = 1\n")
            arguments[arguments.firstIndex(of: EndToEndTests.sample + "/chiptrail.conf")!] = config
        }
        let result = try BuiltBinary.run(arguments, timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let alerts = try EndToEndTests.alerts(result.stdout)
        let covert = try #require(alerts.first { $0["account_id"] as? String == "333333333333" })
        let evidence = try #require(covert["evidence"] as? [[String: Any]])
        let hidden = evidence.first { $0["kind"] as? String == "anonymous-network" }
        #expect((hidden != nil) == counted, "\(evidence)")
        if let hidden {
            #expect(
                (hidden["detail"] as? String)?.hasPrefix(
                    "59% of located calls through anonymising networks (hosting 59%)") == true)
            #expect((hidden["weight"] as? Double ?? 0) > 0)
        }
        let network = try #require(evidence.first { $0["kind"] as? String == "network" })
        #expect(
            (network["detail"] as? String)?.contains("leaving out 215 through anonymising networks elsewhere") == true)
        #expect(alerts.count == 4)
    }

    @Test(arguments: [
        (
            "bad-cidr.csv", header + "198.51.100.0/24,1,1,0,0,0,0\n198.51.100.0/40,1,1,0,0,0,0\n", 1,
            ":3: error: [ipintel] bad network '198.51.100.0/40'"
        ),
        (
            "bad-header.csv", "start_ip,end_ip,country\n", 2,
            ":1: error: [ipintel] header 'start_ip,end_ip,country' is not an IP-intelligence feed's"
        ),
    ])
    func aBadFeedIsNamedByFileAndLine(name: String, text: String, status: Int32, message: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let feed = dir.write(name, text)
        let result = try BuiltBinary.run(EndToEndTests.sampleArguments(["--quiet", "--ip-intel", feed]), timeout: 120)
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.contains(feed + message), "\(result.stderr)")
    }

    /// normalize looks the feed up as ingest does, and the merge of what it wrote gives ingest's alerts.
    @Test func normalizeCarriesTheFeedToTheMerge() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let feed = dir.write("vpn.csv", Self.header + "198.51.100.0/24,1,1,0,0,0,0\n")
        let sample = EndToEndTests.sample
        let normalized = try BuiltBinary.run(
            [
                "normalize", "--quiet", "--geoip", sample + "/geoip.csv", "--config", sample + "/chiptrail.conf",
                "--ip-intel", feed, "--output", dir.path + "/norm", sample + "/AWSLogs",
            ], timeout: 120)
        #expect(normalized.status == 0, "\(normalized.stderr)")
        let merged = try BuiltBinary.run(
            [
                "ingest", "--no-store", "--quiet", "--normalized", "--mappings", sample + "/mappings.csv",
                "--resellers", sample + "/resellers.csv", "--config", sample + "/chiptrail.conf", dir.path + "/norm",
            ], timeout: 120)
        let direct = try BuiltBinary.run(EndToEndTests.sampleArguments(["--quiet", "--ip-intel", feed]), timeout: 120)
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stdout.contains("anonymous-network"))
        #expect(merged.stdout == direct.stdout)
    }
}
