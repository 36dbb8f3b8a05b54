import Foundation
import Testing
import UsageModel

@testable import Detection

/// The identity graph's partner searches kept while the graph stands still (``Detector/PartnerSearches``),
/// what a search reads of the other account, and a shared set's ratio.
@Suite struct PartnerSearchTests {
    /// Three operators' accounts among 300 unrelated ones: 11–13 share people's names and hosts (pooled
    /// partners), 21–22 an address and a tool's installation, 31–33 an access key.
    static func graph() -> IdentityGraph {
        var g = IdentityGraph()
        SharedIdentityTests.background(&g, accounts: 300)
        let call = SharedIdentityTests.call
        for _ in 0..<30 {
            for name in ["user/erin.walker", "user/wei.zhang", "user/grace.wright"] {
                g.observe(call(11, "203.0.113.10", nil, nil, name))
            }
            for name in ["user/erin.walker", "user/wei.zhang"] {
                g.observe(call(12, "203.0.113.10", nil, nil, name))
                g.observe(call(12, "198.51.100.7", nil, nil, name))
            }
            g.observe(call(13, "198.51.100.7", nil, nil, "user/grace.wright"))
            for account in [21, 22] as [UInt64] {
                g.observe(call(account, "192.0.2.44", Self.tool, nil, nil))
            }
            for account in [31, 32, 33] as [UInt64] { g.observe(call(account, nil, nil, "AKIAEXAMPLEKEY000001", nil)) }
        }
        g.settle()
        return g
    }

    static let tool = "aws-cli/2.9.1 Python/3.9.11 Windows/10 exe/AMD64 prompt/off command/s3.cp"

    static func fields(_ p: [Detector.IdentityPartner]) -> [String] {
        p.map {
            "\($0.account) \($0.probability) \($0.shared) \($0.via ?? "-") \($0.seenIn) \($0.logRatio) \($0.pooled) \($0.viaProbability)"
        }
    }

    /// Searches kept across the accounts of a tick give each account the partners a search of its own
    /// gives, with fewer searches of the graph than searching afresh for each.
    @Test(arguments: [true, false])
    func partnersFoundWithKeptSearchesAreThoseFoundAfresh(pooled: Bool) {
        let g = Self.graph()
        var detector = DetectorTests.detector()
        detector.config.sharedIdentityPooled = pooled ? 1 : 0
        let names = { (key: UInt64) -> String? in "\(key)" }
        var kept = Detector.PartnerSearches()
        var afresh = 0
        let accounts: [UInt64] = [11, 12, 13, 21, 22, 31, 32, 33, 1000, 11, 12]
        for key in accounts {
            var own = Detector.PartnerSearches()
            let alone = detector.identityPartners(of: key, in: g, searched: &own, name: names)
            afresh += own.searches
            let shared = detector.identityPartners(of: key, in: g, searched: &kept, name: names)
            #expect(Self.fields(shared) == Self.fields(alone), "account \(key)")
            #expect(Self.fields(alone) == Self.fields(detector.identityPartners(of: key, in: g, name: names)))
        }
        #expect(!detector.identityPartners(of: 13, in: g, name: names).isEmpty)
        // Each account searched once: the eight accounts asked for and the partners of theirs looked at.
        #expect(kept.searches < afresh)
        #expect(kept.searches <= 9)
        // Emptied (the graph changed), an account is searched again.
        let before = kept.searches
        kept.removeAll()
        _ = detector.identityPartners(of: 11, in: g, searched: &kept, name: names)
        #expect(kept.searches > before)
    }

    /// Searches kept up to a limit of partners give the partners found with none: past the limit they are
    /// let go and made again, never more kept than the limit and the last search's own.
    @Test(arguments: [1, 4, 8])
    func partnersFoundWithSearchesBoundedAreThoseFoundWithout(limit: Int) {
        let g = Self.graph()
        var detector = DetectorTests.detector()
        detector.config.sharedIdentityPooled = 1
        let names = { (key: UInt64) -> String? in "\(key)" }
        var bounded = Detector.PartnerSearches(limit: limit)
        var unbounded = Detector.PartnerSearches(limit: .max)
        let accounts: [UInt64] = [11, 12, 13, 21, 22, 31, 32, 33, 1000, 11, 12, 21, 31]
        var most = 0
        for key in accounts {
            let within = detector.identityPartners(of: key, in: g, searched: &bounded, name: names)
            let without = detector.identityPartners(of: key, in: g, searched: &unbounded, name: names)
            #expect(Self.fields(within) == Self.fields(without), "account \(key)")
            // The largest search this assessment may make: the account's, or a partner's.
            let partners = g.partners(
                of: key, population: g.population, parameters: detector.config.identity, minimum: 0)
            most = max(most, partners.count)
            for p in partners {
                most = max(
                    most,
                    g.partners(
                        of: p.account, population: g.population, parameters: detector.config.identity, minimum: 0
                    )
                    .count)
            }
            #expect(bounded.kept <= max(limit, most))
        }
        // The bound makes searches again; without one each account is searched once.
        #expect(unbounded.kept > limit)
        #expect(bounded.searches > unbounded.searches)
    }

    /// The other account's share of its calls is read for a shared address (it weighs the address and is
    /// told), not for another kind of value (nothing reads it there).
    @Test func theOtherAccountsShareIsReadForAnAddressOnly() throws {
        var g = Self.graph()
        let call = SharedIdentityTests.call
        // 22's calls: a third through another address; its tool's calls all carry the release.
        for _ in 0..<15 { g.observe(call(22, "192.0.2.99", Self.tool, nil, nil)) }
        g.settle()
        let partners = g.partners(of: 21, population: g.population, parameters: .init(), minimum: 0)
        let partner = try #require(partners.first { $0.account == 22 })
        let address = try #require(partner.shared.first { $0.kind == .address })
        let agent = try #require(partner.shared.first { $0.kind == .agent })
        #expect(address.shares.0 == 1 && abs(address.shares.1 - 30.0 / 45.0) < 1e-12)
        #expect(agent.shares.0 == 1 && agent.shares.1 == 0)
    }

    /// The shared set's ratio counted in one pass is the one counted by a filter and a stable sort per
    /// kind (the best value in full, the next at half or, for a second person's name, at the factor given),
    /// ties and all, over random sets.
    @Test(arguments: [1.0, 0.5, 0])
    func aSharedSetsRatioCountedInOnePassIsTheSortedOnes(secondPerson: Double) {
        func sorted(_ shared: [IdentityGraph.SharedValue]) -> Double {
            var total = 0.0
            for kind in IdentityGraph.Kind.allCases {
                let values = shared.filter { $0.kind == kind }.sorted { $0.logRatio > $1.logRatio }
                if let best = values.first { total += best.logRatio }
                if values.count > 1 {
                    total += values[1].personal ? values[1].logRatio * secondPerson : values[1].logRatio / 2
                }
            }
            return total
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let shared = (0..<Int.random(in: 0...9, using: &rng)).map { _ in
                IdentityGraph.SharedValue(
                    kind: IdentityGraph.Kind(rawValue: Int.random(in: 0...3, using: &rng))!, name: nil, sharedIn: nil,
                    accountsShowing: 2, shares: (0, 0),
                    // Few distinct ratios, so ties are common.
                    logRatio: [0.5, 1.25, 3, 7.75][Int.random(in: 0...3, using: &rng)],
                    personal: Bool.random(using: &rng))
            }
            #expect(
                IdentityGraph.logRatio(of: shared, secondPerson: secondPerson).bitPattern == sorted(shared).bitPattern)
        }
    }
}
