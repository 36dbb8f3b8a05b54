import Catalog
import Foundation
@testable import Detection
import Ownership
import Sessions
import TestSupport
import Testing
import UsageModel

/// The anonymising-network evidence: what an IP-intelligence feed says of an account's calls, beside
/// calls from a restricted country.
@Suite struct AnonymousNetworkEvidenceTests {
    /// An account with no mapping row (no link of its own): 300 located calls over 20 days, `china` of
    /// them from China (direct), `hidden` through a Singapore exit flagged `network`, the rest from US
    /// offices.
    static func activity(china: Int, hidden: Int, network: AnonymousNetwork, total: Int = 300) -> AccountActivity {
        var a = AccountActivity()
        let start = Timestamp.parse("2026-03-01")! - 20 * 86_400
        let countries =
            Array(repeating: ("CN", AnonymousNetwork()), count: china)
            + Array(repeating: ("SG", network), count: hidden)
            + Array(repeating: ("US", AnonymousNetwork()), count: total - china - hidden)
        for (i, (country, flags)) in countries.enumerated() {
            // Interleaved over 20 days: the calls from China come on many days (steady, not a trip).
            let slot = (i * 7919) % countries.count
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: start + Int64(slot) * 20 * 86_400 / Int64(total),
                    sourceIP: nil, country: CountryCode(country)!, isSignIn: false, network: flags))
        }
        return a
    }

    static func session(account: String) -> Session {
        var s = Sessionizer()
        s.observe(event(.launch, "2026-03-01T02:00:00Z", account: account))
        s.observe(event(.terminate, "2026-03-01T09:00:00Z", account: account))
        return s.finish(at: Timestamp.parse("2026-03-02")!)[0]
    }

    /// A covert operator: 5% of its calls from China, 80% through VPN exits in Singapore. Without a feed
    /// (the same calls, none listed) 5% is an office's share and nothing alerts (with the share's models
    /// fitted on tuning worlds, 2026-12-06, it weighs about nothing, +0.36, where the hand-set ones gave −2:
    /// China is named, nothing else weighs for it); with the feed, the
    /// calls that do not hide behind an exit elsewhere are a quarter from China, and most of the rest
    /// hide: it alerts, and the evidence names the anonymising share by kind.
    @Test(arguments: [true, false])
    func aCovertOperatorsCallsThroughVPNExitsMakeItsAlert(listed: Bool) throws {
        let d = DetectorTests.detector()
        let a = Self.activity(china: 15, hidden: 240, network: listed ? [.anonymous, .vpn] : [])
        let assessment = d.assess(Self.session(account: "999"), activity: a)
        let network = try #require(assessment.evidence.first { $0.kind == .network })
        #expect(assessment.alerts == listed, "\(assessment.evidence.map(\.detail))")
        #expect(assessment.jurisdictions.map(\.description) == ["CN"])
        if listed {
            #expect(
                network.detail.hasPrefix(
                    "15 of 60 located calls (leaving out 240 through anonymising networks elsewhere) from restricted countries (CN 15)"
                ))
            #expect(network.detail.hasSuffix("80% of located calls through anonymising networks (VPN 80%): 240 of 300"))
            let hidden = try #require(assessment.evidence.first { $0.kind == .anonymousNetwork })
            #expect(hidden.detail.hasPrefix("80% of located calls through anonymising networks (VPN 80%)"))
            #expect(hidden.weight > 3 && hidden.weight <= d.config.anonymousWeightCap, "\(hidden.weight)")
        } else {
            #expect(network.detail.hasPrefix("15 of 300 located calls from restricted countries"))
            #expect(network.weight < 0.5)
            #expect(!assessment.evidence.contains { $0.kind == .anonymousNetwork })
        }
    }

    /// A multinational with the same share from China whose other calls come from its own offices, a
    /// few through a hosting range the feed lists: no anonymising evidence, no alert.
    @Test func aMultinationalWithTheSameShareFromChinaStaysQuiet() throws {
        let d = DetectorTests.detector()
        let a = Self.activity(china: 15, hidden: 6, network: [.anonymous, .hosting])
        let assessment = d.assess(Self.session(account: "999"), activity: a)
        #expect(!assessment.alerts)
        #expect(!assessment.evidence.contains { $0.kind == .anonymousNetwork })
        let network = try #require(assessment.evidence.first { $0.kind == .network })
        #expect(network.detail.contains("2% of located calls through anonymising networks (hosting 2%): 6 of 300"))
    }

    /// `anonymous_hosting_share`: calls through a hosting provider's range count that much of a call in the
    /// anonymising share (a company's servers and CI in other clouds hide nothing); a VPN's count in full. At 1
    /// hosting weighs as a VPN; at 0 it weighs nothing and the evidence says so; the network share leaves both
    /// out alike.
    @Test(arguments: [0.0, 0.5, 1.0])
    func hostingCountsItsShareOfACall(share: Double) throws {
        var d = DetectorTests.detector()
        d.config.anonymousHostingShare = share
        let hosting = Self.activity(china: 15, hidden: 240, network: [.anonymous, .hosting])
        let vpn = Self.activity(china: 15, hidden: 240, network: [.anonymous, .vpn])
        #expect(d.anonymousCounted(hosting) == Int((240 * share).rounded()))
        #expect(d.anonymousCounted(vpn) == 240)
        let a = d.assess(Self.session(account: "999"), activity: hosting)
        let b = d.assess(Self.session(account: "999"), activity: vpn)
        #expect(a.anonymousShare?.hidden == Int((240 * share).rounded()))
        #expect(a.evidence.first { $0.kind == .network }?.weight == b.evidence.first { $0.kind == .network }?.weight)
        let weight = a.evidence.first { $0.kind == .anonymousNetwork }?.weight ?? 0
        let full = try #require(b.evidence.first { $0.kind == .anonymousNetwork })
        if share == 1 {
            #expect(weight == full.weight)
            #expect(!(a.evidence.first { $0.kind == .anonymousNetwork }?.detail.contains("hosting providers'") ?? true))
        } else {
            #expect(weight < full.weight)
        }
        if share == 0.5 {
            let detail = try #require(a.evidence.first { $0.kind == .anonymousNetwork }?.detail)
            #expect(detail.contains("; hosting providers' calls weigh 0.5 of a call (120 of 300 counted)"), "\(detail)")
        }
        if share == 0 { #expect(weight == 0) }
        // The look-back asks the same: a hosting range's calls alone may weigh only as far as they count.
        let time = Timestamp.parse("2026-03-02")!
        #expect(d.hidingMayWeigh(hosting, at: time, sharedNorm: 0) == (weight > 0))
        #expect(d.hidingMayWeigh(vpn, at: time, sharedNorm: 0))
    }

    /// VPN and hosting calls together: the VPN's count in full, the hosting range's at its share; at 0 the
    /// account weighs as one whose hosting calls were never listed as hiding (the same share of VPN calls).
    @Test func vpnAndHostingCallsTogetherCountEachAtItsShare() throws {
        var d = DetectorTests.detector()
        d.config.anonymousHostingShare = 0
        var a = Self.activity(china: 15, hidden: 120, network: [.anonymous, .vpn])
        var b = Self.activity(china: 15, hidden: 120, network: [.anonymous, .vpn])
        // 100 of a's calls from the US offices through a hosting range; b's stay unlisted.
        let start = Timestamp.parse("2026-03-01")! - 20 * 86_400
        for i in 0..<100 {
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(1_000 + i), time: start + Int64(i) * 1_000, sourceIP: nil,
                    country: CountryCode("US")!, isSignIn: false, network: [.anonymous, .hosting]))
            b.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(1_000 + i), time: start + Int64(i) * 1_000, sourceIP: nil,
                    country: CountryCode("US")!, isSignIn: false, network: []))
        }
        #expect(d.anonymousCounted(a) == 120)
        #expect(d.anonymityWeight(a) == d.anonymityWeight(b))
        #expect(d.anonymityWeight(a) > 0)
        d.config.anonymousHostingShare = 1
        #expect(d.anonymousCounted(a) == 220)
        #expect(d.anonymityWeight(a) > d.anonymityWeight(b))
    }

    /// Calls through anonymising networks with none from a restricted country name no jurisdiction:
    /// no evidence at all (a western privacy-minded team is not a link).
    @Test func anonymisingNetworksAloneAreNoEvidence() {
        let d = DetectorTests.detector()
        let a = Self.activity(china: 0, hidden: 240, network: [.anonymous, .vpn])
        let assessment = d.assess(Self.session(account: "999"), activity: a)
        #expect(!assessment.alerts)
        #expect(!assessment.evidence.contains { $0.kind == .anonymousNetwork || $0.kind == .network })
    }

    /// `network_skip_anonymous = 0` counts anonymised calls in the network share as without a feed;
    /// `anonymous_weight_cap = 0` turns the anonymising evidence off; with both, the feed changes
    /// nothing but the wording.
    @Test func bothPartsCanBeTurnedOff() throws {
        var d = DetectorTests.detector()
        d.config.networkSkipsAnonymous = 0
        d.config.anonymousWeightCap = 0
        let a = Self.activity(china: 15, hidden: 240, network: [.anonymous, .vpn])
        let plain = Self.activity(china: 15, hidden: 240, network: [])
        let with = d.assess(Self.session(account: "999"), activity: a)
        let without = d.assess(Self.session(account: "999"), activity: plain)
        #expect(!with.alerts)
        #expect(with.score == without.score)
        #expect(with.evidence.map(\.weight) == without.evidence.map(\.weight))
    }

    /// The share's log-likelihood ratio is never below 0 and never above its cap; the evidence is
    /// listed when it is above 0.
    /// (Hosting counted in full, as before session 41.)
    @Test(arguments: [0, 3, 30, 150, 240, 285])
    func theAnonymisingWeightStaysWithinItsBounds(hidden: Int) throws {
        var d = DetectorTests.detector()
        d.config.anonymousHostingShare = 1
        d.config.anonymousWeightCap = 3.5
        let a = Self.activity(china: 15, hidden: hidden, network: [.anonymous, .hosting])
        let weight = d.anonymityWeight(a)
        #expect(weight >= 0 && weight <= 3.5, "\(hidden): \(weight)")
        #expect((weight > 0) == (hidden >= 150), "\(hidden): \(weight)")
        #expect((weight == 3.5) == (hidden == 240), "\(hidden): \(weight)")  // 95%: 2.9, Beta(4,2) falls towards 1
        let assessment = d.assess(Self.session(account: "999"), activity: a)
        #expect(assessment.evidence.first { $0.kind == .anonymousNetwork }?.weight == (weight > 0 ? weight : nil))
    }

    /// What the anonymising share's log-likelihood ratio was taken of (the evidence log's `anonymous_calls`,
    /// which Scripts/fit-anonymous-share fits the share's models on): the hidden and located calls beside a
    /// call from a restricted country, with or without an evidence item; nothing without such a call.
    @Test(arguments: [(15, 240), (15, 6), (15, 0), (0, 240)])
    func theAnonymisingShareIsKeptForTheEvidenceLog(china: Int, hidden: Int) {
        let d = DetectorTests.detector()
        let a = Self.activity(china: china, hidden: hidden, network: [.anonymous, .vpn])
        let share = d.assess(Self.session(account: "999"), activity: a).anonymousShare
        #expect(share?.hidden == (china > 0 ? hidden : nil))
        #expect(share?.located == (china > 0 ? 300 : nil))
    }

    /// 30 calls from China on days 8-11 of 20 among 200 located calls; of the 170 from elsewhere,
    /// spread over the 20 days, `hidden` through a Singapore exit, listed by the feed or not.
    static func tripActivity(hidden: Int, listed: Bool) -> AccountActivity {
        var a = AccountActivity()
        let start = Timestamp.parse("2026-03-01")! - 20 * 86_400
        let flags: AnonymousNetwork = listed ? [.anonymous, .vpn] : []
        for i in 0..<170 {
            let (country, network) = i < hidden ? ("SG", flags) : ("US", AnonymousNetwork())
            let slot = (i * 7919) % 170
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: start + Int64(slot) * 20 * 86_400 / 170, sourceIP: nil,
                    country: CountryCode(country)!, isSignIn: false, network: network))
        }
        for i in 0..<30 {
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(1000 + i), time: start + 8 * 86_400 + Int64(i) * 4 * 86_400 / 30,
                    sourceIP: nil, country: CountryCode("CN")!, isSignIn: false, network: AnonymousNetwork()))
        }
        return a
    }

    /// Calls from China within a few days of an account seen elsewhere are a trip — unless the account
    /// was "seen elsewhere" mostly through anonymising networks (`trip_hidden_share` = 0.5, more than
    /// half of its calls from elsewhere): then it was not seen elsewhere, and the share weighs in full.
    /// Fewer hidden, or the same exits unlisted, leave the trip's cap; so does the default (1: never).
    @Test(arguments: [(130, true, false), (60, true, true), (130, false, true)])
    func callsFromElsewhereThatHidAreNoTrip(hidden: Int, listed: Bool, trip: Bool) throws {
        var d = DetectorTests.detector()
        #expect(d.config.tripHiddenShare == 1)
        d.config.tripHiddenShare = 0.5
        let a = Self.tripActivity(hidden: hidden, listed: listed)
        let assessment = d.assess(Self.session(account: "999"), activity: a)
        let network = try #require(assessment.evidence.first { $0.kind == .network })
        let factor = d.config.familyFactors["network"] ?? 1
        if trip {
            #expect(network.detail.contains("a trip explains them as well"), "\(network.detail)")
            #expect(network.weight <= d.config.tripWeightCap * factor + 1e-9)
        } else {
            #expect(
                network.detail.contains(
                    "but 130 of the 170 calls from elsewhere came through anonymising networks: not a trip"),
                "\(network.detail)")
            #expect(abs(network.weight - d.config.networkWeightCap * factor) < 1e-9, "\(network.weight)")
        }
        var never = d
        never.config.tripHiddenShare = 1
        let capped = never.assess(Self.session(account: "999"), activity: a)
        let weight = try #require(capped.evidence.first { $0.kind == .network }?.weight)
        #expect(weight <= d.config.tripWeightCap * factor + 1e-9)
    }

    /// A traveller's day in Hong Kong, seen by its first calls: 52 calls through a VPN exiting in Hong Kong
    /// on its first day (`days` 1) or spread over its first `days` days, one from China the day after, 8 from
    /// the US between them — no trip yet (nothing seen elsewhere a day before or after).
    static func firstDaysActivity(days: Int) -> AccountActivity {
        var a = AccountActivity()
        let start = Timestamp.parse("2026-02-26T10:00:00Z")!
        let vpn: AnonymousNetwork = [.anonymous, .vpn]
        for i in 0..<52 {
            let day = Int64(i % days)
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: start + day * 86_400 + Int64(i) * 60, sourceIP: nil,
                    country: CountryCode("HK")!, isSignIn: false, network: vpn))
        }
        for i in 0..<8 {
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(100 + i), time: start + 4 * 3_600 + Int64(i) * 600, sourceIP: nil,
                    country: CountryCode("US")!, isSignIn: false))
        }
        a.record(
            CallObservation(
                accountKey: 1, eventKey: 200, time: start + Int64(days) * 86_400 - 3_600, sourceIP: nil,
                country: CountryCode("CN")!, isSignIn: false))
        return a
    }

    /// With `anonymous_steady` 1 (the default), the anonymising share beside calls from restricted
    /// countries on fewer than `steady_days` days weighs the fraction of its cap the network share does (2
    /// days of 4: half); with 0 in full. From `steady_days` days on, both weigh in full either way.
    @Test(arguments: [(0.0, 1), (1.0, 1), (0.0, 4), (1.0, 4)])
    func hidingBesideCallsOnFewDaysWeighsTheirFraction(steady: Double, days: Int) throws {
        var d = DetectorTests.detector()
        #expect(d.config.anonymousSteady == 1)
        d.config.anonymousSteady = steady
        let a = Self.firstDaysActivity(days: days)
        let assessment = d.assess(Self.session(account: "999"), activity: a)
        let network = try #require(assessment.evidence.first { $0.kind == .network })
        let hidden = try #require(assessment.evidence.first { $0.kind == .anonymousNetwork })
        let factor = d.config.familyFactors["anonymous-network"] ?? 1
        let full = d.anonymityWeight(a) * factor
        if days == 1 {
            #expect(network.detail.contains("on 2 day(s) so far (full weight from 4)"), "\(network.detail)")
        } else {
            #expect(!network.detail.contains("so far"), "\(network.detail)")
        }
        #expect(full > 0.5 * d.config.anonymousWeightCap * factor)
        if steady > 0.5 && days == 1 {
            #expect(abs(hidden.weight - 0.5 * d.config.anonymousWeightCap * factor) < 1e-9, "\(hidden.weight)")
            #expect(hidden.detail.hasSuffix("; as the calls from restricted countries, weighs 0.5 of its cap so far"))
        } else {
            #expect(abs(hidden.weight - full) < 1e-9, "\(hidden.weight) \(full)")
            #expect(!hidden.detail.contains("so far"))
        }
    }

    /// The counts live in the account's saved state only when there are any: without a feed the state
    /// is written as before, byte for byte.
    @Test func theCountsAreSavedOnlyWithAFeed() throws {
        let plain = Self.activity(china: 15, hidden: 240, network: [])
        let encoded = try JSONEncoder().encode(plain)
        #expect(!String(decoding: encoded, as: UTF8.self).contains("anonymous"))
        let listed = Self.activity(china: 15, hidden: 240, network: [.anonymous, .vpn])
        let restored = try JSONDecoder().decode(AccountActivity.self, from: JSONEncoder().encode(listed))
        #expect(restored.anonymousCalls == listed.anonymousCalls)
        #expect(restored.anonymousTotal == 240)
        let view = RestrictedJurisdictionsView { code, _ in code.description == "CN" }
        #expect(restored.restrictedCalls(view, at: 0).count == 15)
        #expect(restored.anonymousElsewhere(view, at: 0) == 240)
        #expect(restored.calls(from: CountryCode("SG")!, direct: true) == 0)
        #expect(restored.calls(from: CountryCode("SG")!) == 240)
    }
}

/// An account's countries: the first seen kept in the activity itself, the others in a list; the
/// figures, their order and the saved state are those of one list.
@Suite struct AccountCountriesTests {
    static func activity(_ codes: [String]) -> AccountActivity {
        var a = AccountActivity()
        for (i, code) in codes.enumerated() {
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: 1_772_323_200 + Int64(i) * 86_400, sourceIP: nil,
                    country: CountryCode(code)!, isSignIn: false))
        }
        return a
    }

    @Test(arguments: [["US"], ["US", "CN", "SG", "US", "CN", "HK"], ["CN", "CN", "US"]])
    func figuresAndSavedStateAreThoseOfOneList(codes: [String]) throws {
        let a = Self.activity(codes)
        var expected: [CountryCode: Int] = [:]
        for code in codes { expected[CountryCode(code)!, default: 0] += 1 }
        #expect(a.callsByCountry == expected)
        for (code, n) in expected { #expect(a.calls(from: code) == n) }
        let view = RestrictedJurisdictionsView { code, _ in ["CN", "HK"].contains(code.description) }
        let restricted = a.restrictedCalls(view, at: 0)
        #expect(restricted.count == (expected[CountryCode("CN")!] ?? 0) + (expected[CountryCode("HK")!] ?? 0))
        #expect(a.restrictedCount(view, at: 0) == restricted.count)
        // Days: one per call (a day apart), summed over the restricted countries.
        #expect((a.restrictedWindow(view, at: 0)?.days ?? 0) == restricted.count)
        // Saved in the order first seen, and restored to the same state.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let saved = try encoder.encode(a)
        struct Countries: Decodable { var countries: [CountryCode] }
        var seen: [CountryCode] = []
        for code in codes.map({ CountryCode($0)! }) where !seen.contains(code) { seen.append(code) }
        #expect(try JSONDecoder().decode(Countries.self, from: saved).countries == seen)
        let restored = try JSONDecoder().decode(AccountActivity.self, from: saved)
        #expect(try encoder.encode(restored) == saved)
        #expect(restored.callsByCountry == expected)
    }

    @Test func callsFromACodeEverRestrictedAreFoundByTheBitmap() {
        let set = RestrictedJurisdictions(codes: [CountryCode("CN")!, CountryCode("KH")!]).everRestricted
        #expect(!Self.activity(["US", "SG", "US"]).hasCalls(fromAnyOf: set))
        #expect(Self.activity(["US", "SG", "KH"]).hasCalls(fromAnyOf: set))
        #expect(Self.activity(["CN"]).hasCalls(fromAnyOf: set))
        #expect(!AccountActivity().hasCalls(fromAnyOf: set))
        // The built-in list: Cambodia left on 2026-02-03, and still counts as ever restricted.
        #expect(Self.activity(["KH"]).hasCalls(fromAnyOf: RestrictedJurisdictions.builtIn.everRestricted))
    }
}

/// How many accounts must have shown an address for a call through it to count as through an exit
/// (`shared_exit_accounts`, `shared_exit_share`): the count, or the share of the population where that is
/// more, at most the graph's count of a crowded value; 0 (never) with the count below 1.
@Suite struct SharedExitThresholdTests {
    @Test(
        arguments: [
            (5.0, 0.0025, 200, 5), (5.0, 0.0025, 2_000, 5), (5.0, 0.0025, 2_001, 6), (5.0, 0.0025, 20_000, 50),
            (5.0, 0.0025, 100_000, 65), (10.0, 0.0, 20_000, 10), (0.0, 0.0025, 20_000, 0), (65.0, 0.0, 10, 65),
            (100.0, 0.0, 10, 65),
        ] as [(Double, Double, Int, Int)])
    func threshold(accounts: Double, share: Double, population: Int, expected: Int) {
        var config = DetectionConfig.unfitted
        config.sharedExitAccounts = accounts
        config.sharedExitShare = share
        #expect(config.sharedExitThreshold(population: population, crowded: 65) == expected)
    }

    /// Calls from China through an address many accounts share hide nothing of where the caller is: read
    /// as direct when assessed (no evidence of hiding), and not counted among the calls that may weigh as
    /// hiding (look-back's first test).
    @Test func sharedAddressesInARestrictedCountryHideNothing() throws {
        var a = AccountActivity()
        let start = Timestamp.parse("2026-03-01")! - 20 * 86_400
        for i in 0..<300 {
            let china = i % 20 == 0
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: start + Int64(i) * 5_760, sourceIP: nil,
                    country: CountryCode(china ? "CN" : "US")!, isSignIn: false, network: china ? [.shared] : []))
        }
        let d = DetectorTests.detector()
        let time = Timestamp.parse("2026-03-02")!
        #expect(a.anonymousTotal == 15)
        #expect(a.hidingCalls(d.jurisdictionView, at: time) == 0)
        let assessment = d.assess(AnonymousNetworkEvidenceTests.session(account: "999"), activity: a)
        #expect(!assessment.evidence.contains { $0.kind == .anonymousNetwork }, "\(assessment.evidence)")
        let network = try #require(assessment.evidence.first { $0.kind == .network })
        #expect(
            network.detail.hasPrefix("15 of 300 located calls from restricted countries (CN 15)"), "\(network.detail)")
        // A feed's listing there still counts as hiding.
        var listed = AccountActivity()
        listed.record(
            CallObservation(
                accountKey: 1, eventKey: 1, time: start, sourceIP: nil, country: CountryCode("CN")!, isSignIn: false,
                network: [.anonymous, .vpn]))
        #expect(listed.hidingCalls(d.jurisdictionView, at: time) == 1)
    }

    /// On by default at 5 accounts or 0.25% of the population (the typical account's own share guards a
    /// population that calls through widely shared addresses); 0 turns it off.
    @Test func onByDefault() {
        var config = DetectionConfig.unfitted
        #expect(config.sharedExitAccounts == 5)
        #expect(config.sharedExitThreshold(population: 2_000, crowded: 65) == 5)
        #expect(config.sharedExitThreshold(population: 20_000, crowded: 65) == 50)
        config.sharedExitAccounts = 0
        #expect(config.sharedExitThreshold(population: 2_000, crowded: 65) == 0)
    }

    /// A feed's kind wins over the population's reading; the reading alone is its own kind.
    @Test func aListedKindComesBeforeShared() {
        #expect(AnonymousNetwork([.shared]).kind == .shared)
        #expect(AnonymousNetwork([.shared, .anonymous, .hosting]).kind == .hosting)
        #expect(AnonymousNetwork.Kind.shared.name == "addresses many accounts share")
    }
}
