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
    /// Three weeks of weekdays at `home`'s working hours: each day four calls through an unlisted Singapore
    /// address (no feed), four from US offices and, from day `firstChinaDay`, one from China at 13:30 local
    /// (15 on every weekday from day 0, over 18 days; with `firstChinaDay` 7, 10 within 11 days: a visit).
    static func activity(home: Int, firstChinaDay: Int = 0, days: Int = 19) -> AccountActivity {
        var a = AccountActivity()
        var key: UInt64 = 0
        func call(_ day: Int, _ hour: Int, _ minute: Int, _ country: String) {
            key += 1
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: key,
                    time: TripClockTests.monday + Int64(day) * 86_400 + Int64(hour - home) * 3600 + Int64(minute) * 60,
                    sourceIP: nil, country: CountryCode(country)!, isSignIn: false))
        }
        for day in 0..<days where day % 7 < 5 {
            for hour in 9..<17 { call(day, hour, 0, hour < 13 ? "SG" : "US") }
            if day >= firstChinaDay { call(day, 13, 30, "CN") }
        }
        return a
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
                "the clock of the restricted country its 15 call(s) from CN 15 came from, of 135 located"),
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
    /// (UTC+8, the same hours) or in Mongolia (its hours not in the table: UTC+8 in fact); too few calls from
    /// China; calls from China all within a trip of an account seen elsewhere before them.
    @Test func homesHoursASameClockDeclarationOrTooFewCallsAreNotNamed() throws {
        let traveller = Self.detector().assess(TripClockTests.session(), activity: Self.activity(home: -5))
        #expect(Self.clock(traveller) == nil)
        for country in ["SG", "MN"] {
            let a = Self.detector(declaring: country).assess(TripClockTests.session(), activity: Self.activity(home: 8))
            #expect(Self.clock(a) == nil, "\(country): \(a.evidence)")
        }
        var few = Self.detector()
        few.config.clockMinimumCalls = 16
        #expect(Self.clock(few.assess(TripClockTests.session(), activity: Self.activity(home: 8))) == nil)
        // 10 calls from China within 11 days of an account seen elsewhere a week before them: a visit.
        let visit = Self.activity(home: 8, firstChinaDay: 7)
        #expect(Self.clock(Self.detector().assess(TripClockTests.session(), activity: visit)) == nil)
    }

    /// Not named either: an account that works through the PRC's public holidays (this one through the
    /// Spring Festival, 2026-02-16 to 20) once `clock_holiday_ratio` is at or below the fit's evidence against
    /// the calendar; with 0 (not asked) it is named.
    @Test func anAccountWorkingThroughThePRCsHolidaysIsNotNamed() throws {
        // Five weeks, the Spring Festival's week in the middle (the fit wants ten working days).
        let a = Self.activity(home: 8, days: 33)
        let calendar = HolidayCalendar.prc
        let fit = try #require(
            HolidayFit.estimate(
                activeDays: a.activeDays, days: calendar.localDay(a.firstSeen)...calendar.localDay(a.lastSeen),
                calendar: calendar, dip: 0.2))
        #expect(fit.logLikelihoodRatio < 0, "\(fit.logLikelihoodRatio)")
        var d = Self.detector()
        d.config.clockHolidayRatio = -fit.logLikelihoodRatio
        #expect(Self.clock(d.assess(TripClockTests.session(), activity: a)) == nil)
        d.config.clockHolidayRatio = 0
        #expect(Self.clock(d.assess(TripClockTests.session(), activity: a)) != nil)
    }
}
