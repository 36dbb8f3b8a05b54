#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
public import Catalog

/// Whether an account's active days follow a public-holiday calendar (the PRC's): the log-likelihood
/// ratio of its active days on the calendar's holidays that fall on working days, and on the weekend
/// days worked in exchange, under "follows this calendar" against "does not".
///
/// Days are Bernoulli trials, active or not. Following the calendar, a holiday is active with
/// probability `dip` × p (p: the account's rate on ordinary working days) and a make-up weekend day with
/// p; not following it, a holiday is an ordinary working day (p) and a make-up day an ordinary weekend
/// day (its weekend rate). Reported as the ratio and the days it rests on; like the time zone it never
/// alerts by itself (Singapore and Malaysia keep the Lunar New Year too).
public struct HolidayFit: Sendable, Equatable {
    /// Natural-log likelihood ratio for following the calendar.
    public var logLikelihoodRatio: Double
    /// Holidays on working days in the account's span, and on how many it was active.
    public var holidays: Int
    public var activeHolidays: Int
    /// Make-up weekend days in the span, and on how many it was active.
    public var makeupDays: Int
    public var activeMakeupDays: Int
    /// Its rate of activity on ordinary working days and ordinary weekend days.
    public var workingRate: Double
    public var weekendRate: Double

    /// The posterior of following the calendar from even odds.
    public var confidence: Double { 1 / (1 + exp(-logLikelihoodRatio)) }

    /// nil when the span holds no holiday or make-up day, or fewer than `minimumWorkingDays` working days.
    /// - Parameters:
    ///   - activeDays: distinct active local days by ``HolidayCalendar/DayClass``.
    ///   - days: the local days from the account's first to its last call.
    public static func estimate(
        activeDays: [Int32], days: ClosedRange<Int64>, calendar: HolidayCalendar, dip: Double = 0.2,
        minimumWorkingDays: Int = 10
    ) -> HolidayFit? {
        let all = calendar.count(days)
        let working = all[HolidayCalendar.DayClass.working.rawValue]
        let holidays = all[HolidayCalendar.DayClass.holiday.rawValue]
        let makeup = all[HolidayCalendar.DayClass.makeup.rawValue]
        let weekend = all[HolidayCalendar.DayClass.weekend.rawValue]
        guard working >= minimumWorkingDays, holidays + makeup > 0, activeDays.count == all.count else { return nil }
        func rate(_ active: Int32, _ days: Int) -> Double {
            min(0.95, max(0.05, (Double(active) + 1) / (Double(days) + 2)))
        }
        let p = rate(activeDays[HolidayCalendar.DayClass.working.rawValue], working)
        let pe = rate(activeDays[HolidayCalendar.DayClass.weekend.rawValue], weekend)
        let a = min(Int(activeDays[HolidayCalendar.DayClass.holiday.rawValue]), holidays)
        let m = min(Int(activeDays[HolidayCalendar.DayClass.makeup.rawValue]), makeup)
        var llr = Double(a) * log(dip) + Double(holidays - a) * log((1 - dip * p) / (1 - p))
        llr += Double(m) * log(p / pe) + Double(makeup - m) * log((1 - p) / (1 - pe))
        return HolidayFit(
            logLikelihoodRatio: llr, holidays: holidays, activeHolidays: a, makeupDays: makeup, activeMakeupDays: m,
            workingRate: p, weekendRate: pe)
    }
}
