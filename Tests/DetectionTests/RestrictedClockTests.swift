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
    /// Three weeks of weekdays at `home`'s working hours: each day four calls through a Singapore address many
    /// accounts share (no feed: the pipeline marks it so; with `exits` false, an address of its own), four from
    /// US offices and, from day `firstChinaDay`, one from China at 13:30 local (15 on every weekday from day 0,
    /// over 18 days; with `firstChinaDay` 7, 10 within 11 days: a visit).
    static func activity(home: Int, firstChinaDay: Int = 0, days: Int = 19, exits: Bool = true) -> AccountActivity {
        var a = AccountActivity()
        var key: UInt64 = 0
        func call(_ day: Int, _ hour: Int, _ minute: Int, _ country: String) {
            key += 1
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: key,
                    time: TripClockTests.monday + Int64(day) * 86_400 + Int64(hour - home) * 3600 + Int64(minute) * 60,
                    sourceIP: nil, country: CountryCode(country)!, isSignIn: false,
                    network: country == "SG" && exits ? .shared : []))
        }
        for day in 0..<days where day % 7 < 5 {
            for hour in 9..<17 { call(day, hour, 0, hour < 13 ? "SG" : "US") }
            if day >= firstChinaDay { call(day, 13, 30, "CN") }
        }
        return a
    }

    /// The test detector, with account 999's end customer declared in `country` (nil: its mapping as it is).
    static func declaring(_ country: String?) -> Detector {
        var mappings = DetectorTests.mappingsCSV
        if let country { mappings += "\naws,999,,CUST-9,\(country),2025-01-01T00:00:00Z," }
        return DetectorTests.detector(mappings: mappings)
    }

    static func detector(declaring country: String? = nil, weight: Double = 5) -> Detector {
        var d = declaring(country)
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
    /// China; calls from China all within a trip of an account seen elsewhere before them (with `clock_trip`).
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
        // 10 calls from China within 11 days of an account seen elsewhere a week before them: a visit, with
        // the trip test (`clock_trip` 1; by default the hours of the calls from elsewhere tell a visitor).
        let visit = Self.activity(home: 8, firstChinaDay: 7)
        var withTrip = Self.detector()
        withTrip.config.clockTrip = 1
        #expect(Self.clock(withTrip.assess(TripClockTests.session(), activity: visit)) == nil)
    }

    /// Calls from China on one day are one sitting, however many (`clock_min_days`, 2): an account on UTC+8
    /// whose 15 calls from China all came within an hour on one day is not named; with `clock_min_days` 1 it
    /// is, and so it is with one call a day on 15 days.
    @Test func callsFromChinaOnOneDayAreOneSitting() throws {
        var a = Self.activity(home: 8, firstChinaDay: 100)
        for minute in 0..<15 {
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: 10_000 + UInt64(minute),
                    time: TripClockTests.monday + 10 * 86_400 + Int64(13 - 8) * 3600 + Int64(minute) * 3 * 60,
                    sourceIP: nil, country: CountryCode("CN")!, isSignIn: false))
        }
        let d = Self.detector()
        #expect(d.config.clockMinimumDays == 2)
        #expect(Self.clock(d.assess(TripClockTests.session(), activity: a)) == nil)
        var once = Self.detector()
        once.config.clockMinimumDays = 1
        #expect(Self.clock(once.assess(TripClockTests.session(), activity: a)) != nil)
        #expect(Self.clock(d.assess(TripClockTests.session(), activity: Self.activity(home: 8))) != nil)
    }

    /// Three weeks of weekdays (from 2026-01-12) of a company whose home staff work at `home` (UTC offset), three calls a day
    /// from the US at 09, 13 and 17 local, beside an office in China on UTC+8 that calls from there every
    /// hour 09–17 local (in time order): the office's hours outnumber home's, so the whole account keeps
    /// China's clock, while its calls from elsewhere keep home's. With `exits`, its 09:00 calls from the US came
    /// through an address many accounts share.
    static func multinational(home: Int, exits: Bool = false) -> AccountActivity {
        var calls: [(Int64, String)] = []
        for day in 0..<19 where day % 7 < 5 {
            // From 2026-01-12, clear of the Spring Festival (the holiday test is not what this one asks).
            let midnight = TripClockTests.monday - 28 * 86_400 + Int64(day) * 86_400
            for hour in [9, 13, 17] { calls.append((midnight + Int64(hour - home) * 3600 + 600, "US")) }
            for hour in 9..<18 { calls.append((midnight + Int64(hour - 8) * 3600 + 1200, "CN")) }
        }
        var a = AccountActivity()
        for (i, (time, country)) in calls.sorted(by: { $0.0 < $1.0 }).enumerated() {
            let local = ((time % 86_400) / 3600 + Int64(home) + 24) % 24
            a.record(
                CallObservation(
                    accountKey: 1, eventKey: UInt64(i + 1), time: time, sourceIP: nil, country: CountryCode(country)!,
                    isSignIn: false, network: exits && country == "US" && local == 9 ? .shared : []))
        }
        return a
    }

    /// A multinational with an office in China whose office keeps the account on China's clock: its calls from
    /// elsewhere (home, UTC−5) keep other hours, so they came from where its people are, and it is not named
    /// (`clock_elsewhere_posterior`); not asked (0), it is. The same account whose home staff keep UTC+8 too
    /// is named once some of those calls came through exits, and the evidence says its calls from elsewhere
    /// keep that clock.
    @Test func aMultinationalWhoseCallsFromElsewhereKeepHomesHoursIsNotNamed() throws {
        let a = Self.multinational(home: -5, exits: true)
        let span = a.lastSeen - a.firstSeen
        let whole = try #require(
            TimeZoneEstimate.posterior(near: [8], within: 2, hourOfWeek: a.hourOfWeek, span: span))
        #expect(whole >= 0.8, "\(whole)")
        let elsewhere = try #require(
            TimeZoneEstimate.posterior(near: [8], within: 2, hourOfWeek: a.hourOfWeekElsewhere, span: span))
        #expect(elsewhere < 0.01, "\(elsewhere)")
        #expect(a.hourOfWeekElsewhere.reduce(0, +) == 45)
        var d = Self.detector()
        #expect(d.config.clockElsewherePosterior == 0.8)
        #expect(Self.clock(d.assess(TripClockTests.session(), activity: a)) == nil)
        d.config.clockElsewherePosterior = 0
        #expect(Self.clock(d.assess(TripClockTests.session(), activity: a)) != nil)
        d.config.clockElsewherePosterior = 0.8
        let operatorOnChinasClock = try #require(
            Self.clock(d.assess(TripClockTests.session(), activity: Self.multinational(home: 8, exits: true))))
        #expect(
            operatorOnChinasClock.detail.contains("its 45 active hour(s) with calls located elsewhere keep it too"),
            "\(operatorOnChinasClock.detail)")
    }

    /// Without the trip test (`clock_trip` 0) calls from China within 11 days of an account seen elsewhere a
    /// week before them are named when the calls from elsewhere keep China's clock too (an operator whose
    /// calls from China came late in the window); with it they are a visit, as before.
    @Test func callsFromChinaWithinAFewDaysAreNamedWithoutTheTripTestWhenElsewhereKeepsTheClock() throws {
        let late = Self.activity(home: 8, firstChinaDay: 7)
        var d = Self.detector()
        d.config.clockTrip = 1
        #expect(Self.clock(d.assess(TripClockTests.session(), activity: late)) == nil)
        d.config.clockTrip = 0
        let clock = try #require(Self.clock(d.assess(TripClockTests.session(), activity: late)))
        #expect(clock.detail.contains("with calls located elsewhere keep it too"), "\(clock.detail)")
    }

    /// Not named either: an account on China's clock whose end customer is declared elsewhere (the United
    /// States) and none of whose calls from elsewhere came through an exit (`clock_hidden_calls`, 1): they came
    /// from where they appear to, on China's hours — a team in China working through the network of its company
    /// abroad (the worlds' one false positive of the tuning seeds at 2,000, a multinational declared in
    /// Britain). With the Singapore address of its own, or the US calls of a company whose home staff keep UTC+8
    /// all direct, no reading; declared nowhere, or with `clock_hidden_calls` 0 (not asked), or with some of
    /// those calls through an exit, the reading, which says how many of them hid where one is declared.
    @Test func aDeclaredAccountNoneOfWhoseCallsFromElsewhereHidIsNotNamed() throws {
        var d = Self.detector(declaring: "US")
        #expect(d.config.clockHiddenCalls == 1)
        let direct = [Self.activity(home: 8, exits: false), Self.multinational(home: 8)]
        for a in direct { #expect(Self.clock(d.assess(TripClockTests.session(), activity: a)) == nil) }
        let hidden = try #require(Self.clock(d.assess(TripClockTests.session(), activity: Self.activity(home: 8))))
        #expect(
            hidden.detail.hasSuffix("came from where it is not; 60 of them came through anonymising networks"),
            "\(hidden.detail)")
        for a in direct {
            let undeclared = try #require(Self.clock(Self.detector().assess(TripClockTests.session(), activity: a)))
            #expect(undeclared.detail.hasSuffix("came from where it is not"), "\(undeclared.detail)")
        }
        d.config.clockHiddenCalls = 0
        for a in direct {
            let clock = try #require(Self.clock(d.assess(TripClockTests.session(), activity: a)))
            #expect(clock.detail.hasSuffix("came from where it is not"), "\(clock.detail)")
        }
        // 60 of them through exits: named at 60, not at 61.
        d.config.clockHiddenCalls = 60
        #expect(Self.clock(d.assess(TripClockTests.session(), activity: Self.activity(home: 8))) != nil)
        d.config.clockHiddenCalls = 61
        #expect(Self.clock(d.assess(TripClockTests.session(), activity: Self.activity(home: 8))) == nil)
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
