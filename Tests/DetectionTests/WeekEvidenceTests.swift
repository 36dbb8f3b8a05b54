import Foundation
import Catalog
@testable import Detection
import Sessions
import TestSupport
import Testing
import UsageModel

/// The working week (`week_weight`, `week_posterior`): an account whose people work Saturday to Thursday
/// and rest on Friday on Tehran's clock is named for Iran, wherever its calls exit; the weeks most of the
/// world keeps (Saturday–Sunday, Friday–Saturday, Sunday) are not, on any clock.
@Suite struct WeekEvidenceTests {
    /// Nineteen days from Monday 2026-02-09 of a team at UTC `offsetMinutes` that rests on `rest` (Monday = 0),
    /// works half of `half`, and calls once an hour 09–17 local from `country` (an exit: where it is, or not).
    static func activity(
        offsetMinutes: Int, rest: Set<Int>, half: Set<Int> = [], country: String = "DE", days: Int = 19
    ) -> AccountActivity {
        var a = AccountActivity()
        var key: UInt64 = 0
        for day in 0..<days where !rest.contains(day % 7) {
            let last = half.contains(day % 7) ? 13 : 17
            for hour in 9..<last {
                key += 1
                a.record(
                    CallObservation(
                        accountKey: 1, eventKey: key,
                        time: TripClockTests.monday + Int64(day) * 86_400 + Int64(hour * 60 + 10 - offsetMinutes) * 60,
                        sourceIP: nil, country: CountryCode(country)!, isSignIn: false))
            }
        }
        return a
    }

    static func detector(declaring country: String? = nil, weight: Double = 4) -> Detector {
        var d = RestrictedClockTests.declaring(country)
        d.config.weekWeight = weight
        return d
    }

    static func week(_ a: Detector.Assessment) -> Evidence? {
        a.evidence.first { $0.kind == .time && $0.detail.contains("working week and clock") }
    }

    /// Iran's week on Tehran's clock (Friday; Friday with Thursday half; Thursday–Friday) names Iran, and
    /// Afghanistan's clock (UTC+4:30) Afghanistan: the session links with `week_weight`, and not with it 0.
    @Test(arguments: [
        (210, Set([4]), Set<Int>(), "IR"), (210, Set([4]), Set([3]), "IR"), (210, Set([3, 4]), Set<Int>(), "IR"),
        (270, Set([4]), Set([3]), "AF"),
    ])
    func aSaturdayToThursdayWeekOnTehransClockIsNamed(offset: Int, rest: Set<Int>, half: Set<Int>, named: String)
        throws
    {
        let activity = Self.activity(offsetMinutes: offset, rest: rest, half: half)
        let a = Self.detector().assess(TripClockTests.session(), activity: activity)
        let fit = WeekFit.estimate(
            hourOfWeek: activity.hourOfWeek, span: activity.lastSeen - activity.firstSeen,
            weeks: ["Friday", "Friday, Thursday half", "Thursday-Friday"], offsets: 2...6)
        let week = try #require(Self.week(a), "\(String(describing: fit)) \(activity.hourOfWeek)")
        #expect(week.weight == 4)
        #expect(week.detail.hasPrefix("keeps \(named)'s working week and clock"), "\(week.detail)")
        #expect(week.detail.contains("works Saturday and Sunday"), "\(week.detail)")
        #expect(a.jurisdictions == [CountryCode(named)!])
        #expect(a.linked)
        #expect(a.families.contains("week"))
        // Under a cap it does not reach, the weight is the posterior's log-odds less the prior's (−3).
        let p = try #require(fit?.posterior)
        let uncapped = try #require(
            Self.week(Self.detector(weight: 1000).assess(TripClockTests.session(), activity: activity)))
        #expect(abs(uncapped.weight - (log(p / (1 - p)) + 3)) < 1e-9, "\(uncapped.weight) \(p)")
        let off = Self.detector(weight: 0).assess(TripClockTests.session(), activity: activity)
        #expect(Self.week(off) == nil)
        #expect(!off.linked)
    }

    /// The weeks most accounts keep, on their own clocks: Germany (Saturday–Sunday), Turkey and the UAE
    /// (Saturday–Sunday at UTC+3 and +4), Israel and Saudi Arabia (Friday–Saturday), a six-day week in Japan
    /// (Sunday), a seven-day one at UTC+3:30: none is named.
    @Test(arguments: [
        (60, Set([5, 6])), (180, Set([5, 6])), (240, Set([5, 6])), (120, Set([4, 5])), (180, Set([4, 5])),
        (540, Set([6])), (210, Set<Int>()),
    ])
    func theWeeksMostAccountsKeepAreNotNamed(offset: Int, rest: Set<Int>) throws {
        let activity = Self.activity(offsetMinutes: offset, rest: rest)
        let a = Self.detector().assess(TripClockTests.session(), activity: activity)
        #expect(Self.week(a) == nil, "\(a.evidence)")
        let fit = try #require(
            WeekFit.estimate(
                hourOfWeek: activity.hourOfWeek, span: activity.lastSeen - activity.firstSeen,
                weeks: ["Friday", "Friday, Thursday half", "Thursday-Friday"], offsets: 2...6))
        #expect(fit.posterior < 0.01, "\(fit)")
    }

    /// The fit itself: Tehran's week is found at UTC+3:30 with its Friday empty; too short a span (under two
    /// weeks) or too few hours gives no fit.
    @Test func theFitFindsTheWeekAndTheClockAndNeedsTwoWeeks() throws {
        let activity = Self.activity(offsetMinutes: 210, rest: [4])
        let fit = try #require(
            WeekFit.estimate(
                hourOfWeek: activity.hourOfWeek, span: activity.lastSeen - activity.firstSeen,
                weeks: ["Friday", "Friday, Thursday half", "Thursday-Friday"], offsets: 2...5))
        #expect(fit.pattern == "Friday")
        // A working day from 09:10 to 17:10 fits the template's 09–18 at UTC+3:30 and +4 alike.
        #expect((3.5...4).contains(fit.offset), "\(fit)")
        #expect(fit.hoursByDay[4] == 0)
        #expect(fit.activeHours == 16 * 8)
        #expect(fit.posterior > 0.95, "\(fit)")
        let short = Self.activity(offsetMinutes: 210, rest: [4], days: 12)
        #expect(
            WeekFit.estimate(
                hourOfWeek: short.hourOfWeek, span: short.lastSeen - short.firstSeen, weeks: ["Friday"],
                offsets: 3.5...3.5) == nil)
        #expect(
            WeekFit.estimate(
                hourOfWeek: activity.hourOfWeek, span: activity.lastSeen - activity.firstSeen, weeks: ["Friday"],
                offsets: 3.5...3.5, minimumHours: 200) == nil)
    }

    /// A six-day firm in the UAE or an Israeli lab that works some Saturdays fits the week too: with its calls
    /// from there (a country where Fridays are rested), declared there or not, nothing is named and the
    /// declaration keeps its weight. Declared in the UAE
    /// with its calls from Germany (VPN exits), the week weighs in full and the declaration nothing; declared
    /// in the US with its calls from there (borne out), the week weighs half.
    @Test(
        arguments: [
            ("AE", nil, nil, nil), ("AE", "AE", nil, -2.0), ("IL", "IL", nil, -2.0), ("DE", "AE", 4.0, 0.0),
            ("US", "US", 2.0, -2.0),
        ] as [(String, String?, Double?, Double?)])
    func callsFromAFridayRestCountryOrABorneOutDeclarationWeighTheWeekDown(
        callsFrom country: String, declared: String?, weight: Double?, declaredWeight: Double?
    ) throws {
        let activity = Self.activity(offsetMinutes: 240, rest: [4], country: country)
        let a = Self.detector(declaring: declared).assess(TripClockTests.session(), activity: activity)
        let week = Self.week(a)
        #expect(week?.weight == weight, "\(a.evidence)")
        if weight == 2 { #expect(week?.detail.contains("bear its end customer's declaration out") == true) }
        let declaration = a.evidence.first { $0.kind == .declaredCountry }
        #expect(declaration?.weight == declaredWeight, "\(a.evidence)")
        if declaredWeight == 0 {
            #expect(declaration?.detail.contains("the account keeps IR's working week, not AE's") == true)
        }
    }

    /// Where Iran is not restricted (the configuration removed it) nothing is named for it.
    @Test func anUnrestrictedCountryIsNotNamed() throws {
        var d = Self.detector()
        d.jurisdictions.remove([CountryCode("IR")!, CountryCode("AF")!])
        let a = d.assess(TripClockTests.session(), activity: Self.activity(offsetMinutes: 210, rest: [4]))
        #expect(Self.week(a) == nil, "\(a.evidence)")
    }
}
