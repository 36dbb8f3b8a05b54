import Catalog
@testable import Detection
import Sessions
import TestSupport
import Testing
import UsageModel

/// Exit countries (`exit_country_share`): an unrestricted country from which most of an account's
/// located calls came through anonymising networks is where its exits are, and its calls from there that
/// the feed does not list are left out of the network share too, and bear no declaration out.
@Suite struct ExitCountryTests {
    /// 300 located calls over 20 days before 2026-03-01, interleaved: `china` from China, `listed` from
    /// `exit` through a range the feed lists (`network`: a VPN exit), `unlisted` from `exit` not listed, the
    /// rest from `home`.
    static func activity(
        china: Int, listed: Int, unlisted: Int, exit: String = "SG", home: String = "US",
        network: AnonymousNetwork = [.anonymous, .vpn]
    ) -> AccountActivity {
        var a = AccountActivity()
        let start = Timestamp.parse("2026-03-01")! - 20 * 86_400
        let calls =
            Array(repeating: ("CN", AnonymousNetwork()), count: china)
            + Array(repeating: (exit, network), count: listed)
            + Array(repeating: (exit, AnonymousNetwork()), count: unlisted)
            + Array(repeating: (home, AnonymousNetwork()), count: 300 - china - listed - unlisted)
        for (i, (country, network)) in calls.enumerated() {
            let slot = (i * 7919) % calls.count
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: start + Int64(slot) * 20 * 86_400 / 300,
                    sourceIP: nil, country: CountryCode(country)!, isSignIn: false, network: network))
        }
        return a
    }

    /// One restricted session of `account`: the one the feed's other tests assess.
    static func session(account: String) -> Session { AnonymousNetworkEvidenceTests.session(account: account) }

    /// A covert operator: 4 calls from China, 230 through listed exits in Singapore and 40 more from
    /// Singapore the feed misses, 26 from US addresses. Singapore is where its exits are: the 40 are left
    /// out beside the 230, 4 of 30 weigh for China (+1.4), where 4 of 70 weighed about nothing (+0.46 with the
    /// share's models fitted on tuning worlds, 2026-12-06; −2 under the hand-set ones before); the
    /// evidence names the exit country. At `exit_country_share` 1 (never) the share is as before.
    @Test func anOperatorsUnlistedCallsFromItsExitCountryAreLeftOut() throws {
        var d = DetectorTests.detector()
        let a = Self.activity(china: 4, listed: 230, unlisted: 40)
        let time = Timestamp.parse("2026-03-02")!
        let network = try #require(
            d.assess(Self.session(account: "999"), activity: a).evidence.first { $0.kind == .network })
        #expect(
            network.detail.hasPrefix(
                "4 of 30 located calls (leaving out 230 through anonymising networks elsewhere, and 40 more from SG, where most of its calls came through them) from restricted countries (CN 4)"
            ), "\(network.detail)")
        #expect(network.weight == d.networkWeight(restricted: 4, located: 30))
        #expect(network.weight > 0)
        #expect(d.callsLeanRestricted(a, at: time, sharedNorm: 0))
        d.config.exitCountryShare = 1
        let before = try #require(
            d.assess(Self.session(account: "999"), activity: a).evidence.first { $0.kind == .network })
        #expect(
            before.detail.hasPrefix(
                "4 of 70 located calls (leaving out 230 through anonymising networks elsewhere) from restricted countries"
            ),
            "\(before.detail)")
        #expect(before.weight == d.networkWeight(restricted: 4, located: 70))
        #expect(before.weight < 0.5 && before.weight < network.weight - 0.5)
    }

    /// An office in Singapore with a few calls through a listed VPN exit there (20 of 270): Singapore is
    /// where it is, not where it exits; its calls from there stay in the share.
    @Test func anOfficeWithAFewCallsThroughAnExitThereStaysInTheShare() throws {
        let d = DetectorTests.detector()
        let a = Self.activity(china: 15, listed: 20, unlisted: 265, exit: "SG")
        let network = try #require(
            d.assess(Self.session(account: "999"), activity: a).evidence.first { $0.kind == .network })
        #expect(
            network.detail.hasPrefix(
                "15 of 280 located calls (leaving out 20 through anonymising networks elsewhere) from restricted countries"
            ),
            "\(network.detail)")
        #expect(network.weight == d.networkWeight(restricted: 15, located: 280))
    }

    /// Calls from the United States through an address many accounts share (no feed listed it,
    /// `shared_exit_accounts`): 190 of 300, beside 15 from China and 95 direct from the US. For an account
    /// whose end customer is declared there (555) such an address is as likely its offices' proxy or
    /// carrier: they count as direct, 15 of 300, and nothing says it hides. For one declared nowhere (999)
    /// they are exits, as listed ones would be: left out (with the US's 95 others: most of its calls from
    /// there came through them), and weighed as hiding beside the calls from China.
    @Test func callsThroughSharedAddressesWhereTheEndCustomerIsDeclaredAreDirect() throws {
        let d = DetectorTests.detector()
        let a = Self.activity(china: 15, listed: 190, unlisted: 0, exit: "US", network: [.shared])
        let declared = d.assess(Self.session(account: "555"), activity: a)
        let network = try #require(declared.evidence.first { $0.kind == .network })
        #expect(
            network.detail.hasPrefix("15 of 300 located calls from restricted countries (CN 15)"), "\(network.detail)")
        #expect(!network.detail.contains("anonymising"), "\(network.detail)")
        #expect(!declared.evidence.contains { $0.kind == .anonymousNetwork })
        let undeclared = d.assess(Self.session(account: "999"), activity: a)
        let hidden = try #require(undeclared.evidence.first { $0.kind == .network })
        #expect(
            hidden.detail.hasPrefix(
                "15 of 15 located calls (leaving out 190 through anonymising networks elsewhere, and 95 more from US, where most of its calls came through them)"
            ), "\(hidden.detail)")
        let hiding = try #require(undeclared.evidence.first { $0.kind == .anonymousNetwork })
        #expect(
            hiding.detail.hasPrefix(
                "63% of located calls through anonymising networks (addresses many accounts share 63%): 190 of 300"),
            "\(hiding.detail)")
        // The activity itself is unchanged: the calls are direct only as read for the declared country.
        #expect(a.sharedAsDirect { $0 == CountryCode("DE")! }.anonymousTotal == 190)
        #expect(a.sharedAsDirect { $0 == CountryCode("US")! }.anonymousTotal == 0)
        #expect(a.anonymousTotal == 190)
    }

    /// 300 located calls over 20 days: 120 from Singapore and 60 from Germany through addresses many
    /// accounts share, 20 from China through one too, 100 direct from the US.
    static func sharedActivity() -> AccountActivity {
        var a = AccountActivity()
        let start = Timestamp.parse("2026-03-01")! - 20 * 86_400
        let calls =
            Array(repeating: ("SG", true), count: 120) + Array(repeating: ("DE", true), count: 60)
            + Array(repeating: ("CN", true), count: 20) + Array(repeating: ("US", false), count: 100)
        for (i, (country, shared)) in calls.enumerated() {
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i), time: start + Int64((i * 7919) % 300) * 20 * 86_400 / 300,
                    sourceIP: nil, country: CountryCode(country)!, isSignIn: false,
                    network: shared ? [.shared] : []))
        }
        return a
    }

    /// Of the calls through shared addresses, only those beyond the population's own share (`norm` of
    /// the account's 300 located calls) stay through an exit, each country's in proportion, rounded down;
    /// China's, in a restricted country, are direct first. At a norm of 0.4, 120 are expected: 80 of the
    /// 200 stay (200 − 120; of the 180 outside China), 53 of Singapore's 120 and 26 of Germany's 60 (79,
    /// rounded down); at 0.2, 140: 93 and 46. At 0.7 or more (210 expected) none do; at 0 every one outside
    /// China does.
    @Test(arguments: [(0.0, 120, 60), (0.2, 93, 46), (0.4, 53, 26), (0.7, 0, 0), (1.5, 0, 0)])
    func sharedCallsCountOnlyBeyondThePopulationsShare(norm: Double, singapore: Int, germany: Int) throws {
        let a = Self.sharedActivity()
        let china = CountryCode("CN")!
        let read = a.sharedAsDirect(where: { $0 == china }, beyond: norm)
        #expect(read.anonymousTotal == singapore + germany)
        #expect(read.anonymousCalls[AnonymousNetwork.Kind.shared.rawValue] == Int32(singapore + germany))
        #expect(read.calls(from: CountryCode("SG")!, direct: true) == 120 - singapore)
        #expect(read.calls(from: CountryCode("DE")!, direct: true) == 60 - germany)
        #expect(read.calls(from: china, direct: true) == 20)
        #expect(read.locatedCalls == 300)
    }

    /// The assessment reads them so, and says the population's share beside the account's beyond it: at 0.2,
    /// 60 expected, 140 of the 180 stay (93 of Singapore's, 46 of Germany's: 139 of 300, 46%); at 0.7
    /// nothing says the account hides.
    @Test func theAssessmentWeighsSharedCallsBeyondThePopulationsShare() throws {
        let d = DetectorTests.detector()
        let a = Self.sharedActivity()
        let session = Self.session(account: "999")
        let hiding = try #require(
            d.assess(session, activity: a, partners: [], sharedNorm: 0.2).evidence.first {
                $0.kind == .anonymousNetwork
            })
        #expect(
            hiding.detail.hasPrefix(
                "46% of located calls through anonymising networks (addresses many accounts share 46% beyond the population's 20%): 139 of 300"
            ), "\(hiding.detail)")
        let none = d.assess(session, activity: a, partners: [], sharedNorm: 0.7)
        #expect(!none.evidence.contains { $0.kind == .anonymousNetwork }, "\(none.evidence)")
        let network = try #require(none.evidence.first { $0.kind == .network })
        #expect(
            network.detail.hasPrefix("20 of 300 located calls from restricted countries (CN 20)"), "\(network.detail)")
    }

    /// The look-back's test before it assesses an account's remembered sessions again
    /// (``Detector/hidingMayWeigh(_:at:sharedNorm:)``), against the assessments of the same calls for an
    /// account declared nowhere (999), in the US (555), in Germany (661) or in Singapore (662: Singapore's
    /// 120 are direct, Germany's 60 weigh nothing): it passes exactly where one weighs them as hiding. At
    /// 0.4 only Germany's declaration leaves enough beyond the typical account's share (80 of Singapore's,
    /// where without it 79 of both stay and weigh nothing); at 0.45, 65 and 64 stay, at 0.55 35: calls
    /// that may hide, too few to weigh.
    @Test(arguments: [
        (0.0, ["999", "555", "661"]), (0.2, ["999", "555", "661"]), (0.4, ["661"]), (0.45, []), (0.55, []),
        (0.7, []),
    ])
    func theLookBackAsksWhetherTheCallsWeighAsHiding(norm: Double, hiding: [String]) throws {
        let d = Self.declaring()
        let a = Self.sharedActivity()
        let time = Timestamp.parse("2026-03-02")!
        let hides = ["999", "555", "661", "662"].filter { account in
            d.assess(Self.session(account: account), activity: a, partners: [], sharedNorm: norm).evidence.contains {
                $0.kind == .anonymousNetwork
            }
        }
        #expect(hides == hiding)
        #expect(d.hidingMayWeigh(a, at: time, sharedNorm: norm) == !hides.isEmpty)
        if norm == 0.55 { #expect(a.hidingCalls(d.jurisdictionView, at: time, beyond: norm) == 35) }
    }

    /// The detector of these tests, with accounts declared in Germany (661) and Singapore (662) as well.
    static func declaring() -> Detector {
        DetectorTests.detector(
            mappings: DetectorTests.mappingsCSV
                + "\naws,661,,CUST-61,DE,2025-01-01T00:00:00Z,\naws,662,,CUST-62,SG,2025-01-01T00:00:00Z,")
    }

    /// What may hide is at least what any reading keeps, whatever the typical account's share and the
    /// declared country (`hidingCalls` bounds every `sharedAsDirect`).
    @Test(arguments: [0.0, 0.07, 0.2, 0.33, 0.4, 0.45, 0.6, 0.9, 1.0])
    func whatMayHideBoundsEveryReading(norm: Double) {
        let d = Self.declaring()
        let a = Self.sharedActivity()
        let time = Timestamp.parse("2026-03-02")!
        let bound = a.hidingCalls(d.jurisdictionView, at: time, beyond: norm)
        for read in d.sharedReadings(a, at: time, sharedNorm: norm) {
            #expect(read.anonymousTotal <= bound)
        }
        for country in ["US", "DE", "SG", "FR"] {
            let declared = CountryCode(country)!
            let read = a.sharedAsDirect(
                where: { $0 == declared || d.jurisdictionView.isRestricted($0, time) }, beyond: norm)
            #expect(read.anonymousTotal <= bound)
        }
    }

    /// Whole percents: 7% of 100 located calls is 7, so an account with 8 through shared addresses keeps 1.
    @Test func theTypicalAccountsShareIsCountedInWholePercents() {
        #expect(AccountActivity.beyond(0.07, shared: 8, located: 100) == 1)
        #expect(AccountActivity.beyond(0.07, shared: 7, located: 100) == 0)
        #expect(AccountActivity.beyond(1.5, shared: 100, located: 100) == 0)
        #expect(AccountActivity.beyond(-1, shared: 5, located: 100) == 5)
    }

    /// The look-back's network test reads each declaration too: at 0.4, declaring Germany leaves 80 of
    /// Singapore's 120 through exits (79 of both without it), which makes Singapore an exit country and
    /// leaves out its 40 other calls: 20 of 180 weigh for China where 20 of 221 did. With
    /// `lookback_network_weight` between the two, only that reading passes, and the assessment of the
    /// account declared in Germany bears it out.
    @Test func theLookBacksNetworkTestReadsEachDeclaration() throws {
        var d = Self.declaring()
        let a = Self.sharedActivity()
        let time = Timestamp.parse("2026-03-02")!
        let low = d.networkWeight(restricted: 20, located: 221)
        let high = d.networkWeight(restricted: 20, located: 180)
        #expect(low < high)
        d.config.lookbackNetworkWeight = (low + high) / 2
        #expect(d.networkMayCarryLookBack(a, at: time, sharedNorm: 0.4))
        let network = try #require(
            d.assess(Self.session(account: "661"), activity: a, partners: [], sharedNorm: 0.4).evidence.first {
                $0.kind == .network
            })
        #expect(network.detail.hasPrefix("20 of 180 located calls"), "\(network.detail)")
        let undeclared = try #require(
            d.assess(Self.session(account: "999"), activity: a, partners: [], sharedNorm: 0.4).evidence.first {
                $0.kind == .network
            })
        #expect(undeclared.detail.hasPrefix("20 of 221 located calls"), "\(undeclared.detail)")
    }

    /// An end customer declared in the United States (account 555), the account's calls from there mostly
    /// through listed VPN exits: with `exit_country_keeps_declared` 0 the US is an exit country and its
    /// unlisted calls from there bear the declaration out no more (0 of the 40 calls left, where 60 of 100
    /// did); by default the declared country is never an exit country and they do.
    @Test func callsFromAnExitCountryBearNoDeclarationOut() throws {
        var d = DetectorTests.detector()
        let a = Self.activity(china: 15, listed: 200, unlisted: 60, exit: "US", home: "JP")
        let kept = try #require(
            d.assess(Self.session(account: "555"), activity: a).evidence.first { $0.kind == .declaredCountry })
        #expect(!kept.detail.contains("located calls from US"), "\(kept.detail)")
        d.config.exitCountryKeepsDeclared = 0
        let declared = try #require(
            d.assess(Self.session(account: "555"), activity: a).evidence.first { $0.kind == .declaredCountry })
        #expect(
            declared.detail.contains("; 0 of 40 located calls from US (share 0.0, below 0.3)"), "\(declared.detail)")
        d.config.exitCountryShare = 1
        let before = try #require(
            d.assess(Self.session(account: "555"), activity: a).evidence.first { $0.kind == .declaredCountry })
        #expect(!before.detail.contains("located calls from US"), "\(before.detail)")
    }

    /// A benign multinational declared in the United States (account 555): 190 of its 300 calls from US
    /// addresses the feed lists as hosting (its home office's range listed wrongly, or its own servers at a
    /// host), 104 from US addresses not listed, 6 from its China office. The US is where its end customer is
    /// declared, so it is no exit country: its 104 unlisted calls stay in the share, 6 of 110 is an office's
    /// share (about nothing: +0.43 with the fitted share models, below 0 before 2026-12-06), and the evidence
    /// says why they were kept. With `exit_country_keeps_declared` 0 they
    /// were left out and 6 of 6 weighed in full for China.
    @Test func theDeclaredCountryIsNoExitCountry() throws {
        var d = DetectorTests.detector()
        let a = Self.activity(china: 6, listed: 190, unlisted: 104, exit: "US", home: "JP", network: [.hosting])
        let assessment = d.assess(Self.session(account: "555"), activity: a)
        let network = try #require(assessment.evidence.first { $0.kind == .network })
        #expect(
            network.detail.hasPrefix(
                "6 of 110 located calls (leaving out 190 through anonymising networks elsewhere; its 104 other calls from US kept: most came through them, but its end customer is declared there) from restricted countries (CN 6)"
            ), "\(network.detail)")
        #expect(network.weight == d.networkWeight(restricted: 6, located: 110))
        #expect(network.weight < 0.5)
        #expect(!assessment.alerts)
        d.config.exitCountryKeepsDeclared = 0
        let before = try #require(
            d.assess(Self.session(account: "555"), activity: a).evidence.first { $0.kind == .network })
        #expect(
            before.detail.hasPrefix(
                "6 of 6 located calls (leaving out 190 through anonymising networks elsewhere, and 104 more from US, where most of its calls came through them) from restricted countries"
            ), "\(before.detail)")
        #expect(before.weight == d.networkWeight(restricted: 6, located: 6))
        #expect(before.weight > 0)
    }

    /// Three weeks of weekdays worked 09–17 at UTC−5, one call an hour: the first 4 hours of each day through
    /// listed exits in `exits` in turn (60 of 135), the rest from US offices; on 4 days from day 7, five calls
    /// a day from China. Not on China's clock: the trip's clock does not speak.
    static func tripActivity(exits: [String]) -> AccountActivity {
        var a = AccountActivity()
        var key: UInt64 = 0
        let monday = TripClockTests.monday
        for day in 0..<19 where day % 7 < 5 {
            for hour in 9..<18 {
                key += 1
                let hides = hour - 9 < 4
                a.record(
                    CallObservation(
                        accountKey: 1, eventKey: key, time: monday + Int64(day) * 86_400 + Int64(hour + 5) * 3600,
                        sourceIP: nil, country: CountryCode(hides ? exits[Int(key) % exits.count] : "US")!,
                        isSignIn: false, network: hides ? [.anonymous, .vpn] : []))
            }
        }
        for day in 7..<11 {
            for hour in 10..<15 {
                key += 1
                a.record(
                    CallObservation(
                        accountKey: 1, eventKey: key,
                        time: monday + Int64(day) * 86_400 + Int64(hour - 8) * 3600 + 1800,
                        sourceIP: nil, country: CountryCode("CN")!, isSignIn: false))
            }
        }
        return a
    }

    /// Calls from China within a trip's window of an account seen elsewhere, a fifth and more of those
    /// calls through anonymising networks: exiting in Singapore and Japan, no trip (an operator rotates its
    /// exits), and the evidence says why; exiting in Singapore alone, or with `trip_exit_countries` 0, a
    /// trip (a traveller's VPN exits near home).
    @Test func exitsInSeveralCountriesAreNoTrip() throws {
        var d = DetectorTests.detector()
        let session = TripClockTests.session()
        let spread = try #require(
            d.assess(session, activity: Self.tripActivity(exits: ["SG", "JP"])).evidence.first { $0.kind == .network })
        #expect(
            spread.detail.contains(
                "but 60 of the 135 calls from elsewhere came through anonymising networks, exiting in 2 countries (JP 30, SG 30): not a trip"
            ), "\(spread.detail)")
        #expect(spread.weight > d.config.tripWeightCap, "\(spread.weight)")
        let one = try #require(
            d.assess(session, activity: Self.tripActivity(exits: ["SG"])).evidence.first { $0.kind == .network })
        #expect(one.detail.contains("a trip explains them as well"), "\(one.detail)")
        #expect(one.weight <= d.config.tripWeightCap)
        d.config.tripExitCountries = 0
        let never = try #require(
            d.assess(session, activity: Self.tripActivity(exits: ["SG", "JP"])).evidence.first { $0.kind == .network })
        #expect(never.detail.contains("a trip explains them as well"), "\(never.detail)")
        #expect(never.weight <= d.config.tripWeightCap)
    }
}
