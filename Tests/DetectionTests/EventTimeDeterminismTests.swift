import Detection
import Foundation
import TestSupport
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
}
