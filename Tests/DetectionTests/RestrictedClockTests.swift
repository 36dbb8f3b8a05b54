import Catalog
@testable import Detection
import Sessions
import TestSupport
import Testing
import UsageModel

/// The restricted country's clock (`clock_weight`, `clock_min_calls`, `clock_posterior`): an account with
/// calls from China that keeps China's working hours, while its end customer is declared nowhere or where
/// other hours are kept, is named for China by the time family, without an IP-intelligence feed.
@Suite struct RestrictedClockTests {
    /// TripClockTests' account: three weeks at `home`'s hours from US offices and an unlisted Singapore
    /// address (no feed), 20 calls from China on days 7–10.
    static func activity(home: Int) -> AccountActivity {
        TripClockTests.activity(home: home, away: 8, hiddenPerDay: 4, listed: false)
    }

    static func detector(declaring country: String? = nil, weight: Double = 5) -> Detector {
        var mappings = DetectorTests.mappingsCSV
        if let country { mappings += "\naws,999,,CUST-9,\(country),2025-01-01T00:00:00Z," }
        var d = DetectorTests.detector(mappings: mappings)
        d.config.clockWeight = weight
        return d
    }

    static func clock(_ a: Detector.Assessment) -> Evidence? {
        a.evidence.first { $0.kind == .time && $0.detail.hasPrefix("keeps UTC+8 hours") }
    }

    /// On China's clock with no end customer declared, or one declared in the United States: the time
    /// family weighs `clock_weight`, names China and links the session; with `clock_weight` 0 it does not.
    @Test(arguments: [nil, "US"])
    func anAccountOnChinasClockWithCallsFromChinaIsNamed(declared: String?) throws {
        let d = Self.detector(declaring: declared)
        let a = d.assess(TripClockTests.session(), activity: Self.activity(home: 8))
        let clock = try #require(Self.clock(a), "\(a.evidence)")
        #expect(clock.weight == 5)
        #expect(
            clock.detail.contains(
                "the clock of the restricted country its 20 call(s) from CN 20 came from, of 155 located"),
            "\(clock.detail)")
        #expect(
            clock.detail.contains(
                declared == nil
                    ? "no end customer's country is declared"
                    : "its end customer is declared in US, which keeps other hours"),
            "\(clock.detail)")
        #expect(a.jurisdictions.contains(CountryCode("CN")!))
        #expect(a.linked)
        let off = Self.detector(declaring: declared, weight: 0).assess(
            TripClockTests.session(), activity: Self.activity(home: 8))
        #expect(Self.clock(off) == nil)
        #expect(off.score < a.score)
    }

    /// Not named: a traveller on home's hours (UTC−5); an account whose customer is declared in Singapore
    /// (UTC+8, the same hours) or in Mongolia (its hours not in the table: UTC+8 in fact); too few calls from China.
    @Test func homesHoursASameClockDeclarationOrTooFewCallsAreNotNamed() throws {
        let traveller = Self.detector().assess(TripClockTests.session(), activity: Self.activity(home: -5))
        #expect(Self.clock(traveller) == nil)
        for country in ["SG", "MN"] {
            let a = Self.detector(declaring: country).assess(TripClockTests.session(), activity: Self.activity(home: 8))
            #expect(Self.clock(a) == nil, "\(country): \(a.evidence)")
        }
        var few = Self.detector()
        few.config.clockMinimumCalls = 21
        #expect(Self.clock(few.assess(TripClockTests.session(), activity: Self.activity(home: 8))) == nil)
    }
}
