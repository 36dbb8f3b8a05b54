import Detection
import Foundation
import Testing
import UsageModel

/// The pieces of live state that `tail` saves and restores must decide exactly as if it never stopped.
@Suite struct EventTimeDeterminismTests {
    /// A stream of calls of 30 accounts in runs (one account's calls with the same address, agent and
    /// role), some values shared by a few accounts, cut into ticks with a settle after each.
    static func ticks(seed: UInt64) -> [[CallObservation]] {
        var rng = SplitMix(seed: seed)
        var out: [[CallObservation]] = []
        for _ in 0..<40 {
            var tick: [CallObservation] = []
            for _ in 0..<Int(rng.next() % 6) {
                let account = 1 + rng.next() % 30
                // Accounts 1–6 share a jump host and a launcher; the others have their own.
                let shared = account <= 6
                let ip = shared && rng.next() % 3 != 0 ? "203.0.113.9" : "198.51.\(account).\(rng.next() % 3)"
                let agent = shared ? "launcher/0.3" : "aws-cli/2.15.\(account % 4)"
                for _ in 0..<Int(1 + rng.next() % 12) {
                    tick.append(
                        CallObservation(
                            accountKey: account, eventKey: rng.next(), time: 0, sourceIP: IPAddress.parse(ip),
                            isSignIn: false, agentKey: UserAgent.installationKey(agent),
                            principalKey: StableHash.hash(shared ? "role/broker" : "role/admin")))
                }
            }
            out.append(tick)
        }
        return out
    }

    static func answers(_ g: IdentityGraph) -> [String] {
        (1...30).map { (a: UInt64) in
            g.partners(of: a, population: g.population, parameters: IdentityGraph.Parameters()).map {
                "\(a)->\($0.account) \($0.logRatio) \($0.probability) \($0.shared.map(\.accountsShowing))"
            }.joined(separator: "; ")
        }
    }

    /// Restored from a snapshot at any tick, the graph gives the same partners, ratios and probabilities
    /// at every later tick as the graph that went on (a run of calls that continues past a tick is
    /// counted at each settle, so nothing of it hides in state the snapshot leaves out).
    @Test(arguments: [1, 2, 3] as [UInt64], [5, 17, 33])
    func aRestoredIdentityGraphDecidesAsIfItNeverStopped(seed: UInt64, cut: Int) {
        let ticks = Self.ticks(seed: seed)
        var straight = IdentityGraph()
        var restored = IdentityGraph()
        for (n, tick) in ticks.enumerated() {
            for call in tick {
                straight.observe(call)
                restored.observe(call)
            }
            straight.settle()
            restored.settle()
            if n == cut {
                var fresh = IdentityGraph()
                fresh.restore(restored.snapshot)
                restored = fresh
            }
            if n >= cut { #expect(Self.answers(restored) == Self.answers(straight), "tick \(n)") }
        }
        #expect(Self.answers(straight).contains { !$0.isEmpty })
    }

    /// Accounts 1111… and 2222… share a launcher, an access key and a jump host in one file; a third
    /// account's only call in the same five minutes is in another file. The shared-identity evidence
    /// names the file where the shared values were seen, not the last file read before the tick
    /// (Fixtures/shared-in, made by its generate.py).
    @Test func sharedIdentityEvidenceNamesTheFileWhereTheValuesWereSeen() throws {
        let dir = Repository.fixtures + "/shared-in"
        let result = try BuiltBinary.run([
            "ingest", "--no-store", "--jobs", "1", "--mappings", dir + "/m.csv", dir + "/AWSLogs_a_20260301T0100Z.json",
            dir + "/AWSLogs_z_20260301T0105Z.json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let alerts = try EndToEndTests.alerts(result.stdout)
        let evidence = try #require(
            alerts.first { $0["account_id"] as? String == "111111111111" }?["evidence"] as? [[String: Any]])
        let shared = try #require(evidence.first { $0["kind"] as? String == "shared-identity" })
        let sources = shared["sources"] as? [String] ?? []
        #expect(sources.contains { $0.hasSuffix("AWSLogs_a_20260301T0100Z.json") }, "\(sources)")
        #expect(!sources.contains { $0.hasSuffix("AWSLogs_z_20260301T0105Z.json") }, "\(sources)")
    }
}
