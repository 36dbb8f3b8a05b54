public import UsageModel

/// A country's public holidays and the weekend days worked in exchange, by local date: the PRC calendar
/// of the State Council's yearly notices (Data/holidays-cn.csv), for the holiday evidence.
public struct HolidayCalendar: Sendable {
    /// How a local date counts for a working week.
    public enum DayClass: Int, Sendable, CaseIterable {
        /// Monday to Friday, not a holiday.
        case working = 0
        /// A public holiday that falls Monday to Friday: the day that tells a calendar apart.
        case holiday = 1
        /// A Saturday or Sunday worked in exchange for a holiday.
        case makeup = 2
        /// Any other Saturday or Sunday.
        case weekend = 3
    }

    /// The local time's offset from UTC, in seconds.
    public let utcOffset: Int64
    /// Local days (since 1970-01-01) that are holidays or make-up working days.
    private let special: [Int64: DayClass]
    /// Local days covered: the years the data lists in full.
    public let covered: ClosedRange<Int64>

    /// The PRC (mainland) calendar at UTC+8.
    public static let prc: HolidayCalendar = {
        let table = NamedCSV(text: CatalogData.holidaysCN)
        var special: [Int64: DayClass] = [:]
        var years = Set<Int>()
        for row in table.rows {
            let date = table.value(row, "date")
            guard let time = Timestamp.parse(date), let year = Int(date.prefix(4)) else { continue }
            years.insert(year)
            special[time / 86_400] = table.value(row, "kind") == "workday" ? .makeup : .holiday
        }
        let first = Timestamp.parse("\(years.min() ?? 1970)-01-01")! / 86_400
        let last = Timestamp.parse("\((years.max() ?? 1969) + 1)-01-01")! / 86_400 - 1
        return HolidayCalendar(utcOffset: 8 * 3600, special: special, covered: first...last)
    }()

    init(utcOffset: Int64, special: [Int64: DayClass], covered: ClosedRange<Int64>) {
        self.utcOffset = utcOffset
        self.special = special
        self.covered = covered
    }

    /// The local day of `time` (days since 1970-01-01 in the calendar's time zone).
    public func localDay(_ time: EpochSeconds) -> Int64 {
        let t = time + utcOffset
        return t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
    }

    /// The class of local day `day`; nil outside the years the data covers.
    public func dayClass(_ day: Int64) -> DayClass? {
        guard covered.contains(day) else { return nil }
        // 1970-01-01 was a Thursday: weekday 0 = Monday.
        let weekday = ((day + 3) % 7 + 7) % 7
        let isWeekend = weekday >= 5
        switch special[day] {
        case .holiday?: return isWeekend ? .weekend : .holiday
        case .makeup?: return .makeup
        default: return isWeekend ? .weekend : .working
        }
    }

    /// How many local days of each class lie in `days` (covered days only), indexed by ``DayClass``.
    public func count(_ days: ClosedRange<Int64>) -> [Int] {
        var out = [Int](repeating: 0, count: DayClass.allCases.count)
        guard days.overlaps(covered) else { return out }
        for day in days.clamped(to: covered) { out[dayClass(day)!.rawValue] += 1 }
        return out
    }
}
