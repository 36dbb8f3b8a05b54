#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Which days of the week an account rests on, and on what clock: the likelihood of its hour-of-week
/// histogram under a working-week template (``TimeZoneEstimate``'s hours) for each UTC offset from −12 to
/// +14 in half hours and each weekend pattern a country keeps, with a prior over the patterns.
///
/// ``TimeZoneEstimate`` assumes a Saturday–Sunday weekend; a team that works Saturdays and rests on
/// Fridays fits no offset there. The working week is itself a fact about where people are: Iran works
/// Saturday to Thursday (Thursday often a half day) and rests on Friday alone, where its neighbours rest on
/// Friday and Saturday (the Gulf, Israel, Egypt) or Saturday and Sunday (Turkey, the UAE since 2022, Armenia,
/// Georgia, Europe). An account that works Saturdays and Sundays, rests on Fridays, and keeps Tehran's
/// hours is operated from Iran wherever its calls exit.
public struct WeekFit: Sendable, Equatable {
    /// A weekend: the days rested (Monday = 0) and the days worked half.
    public struct Pattern: Sendable, Equatable {
        public var name: String
        public var rest: Set<Int>
        public var half: Set<Int>
        /// Prior probability among the patterns: how common the week is among cloud accounts.
        public var prior: Double
    }

    /// The weeks the fit chooses among. The Saturday–Sunday week is most accounts'; the others are kept
    /// in fewer places (Friday–Saturday: the Gulf states, Israel, Egypt, Bangladesh; Sunday: six-day
    /// weeks; none: round the clock). Sources for Iran's week: its Labour Law's six-day week (Saturday to
    /// Thursday, Friday the weekly rest), Thursday a half day in many firms; the 2024 and 2025 bills to add
    /// a second rest day (Saturday, then Thursday) were not in force as of 2026 (Tehran Times 2025-03-05;
    /// Iran Times 2023-04-27).
    public static let patterns: [Pattern] = [
        Pattern(name: "Saturday-Sunday", rest: [5, 6], half: [], prior: 0.80),
        Pattern(name: "Friday-Saturday", rest: [4, 5], half: [], prior: 0.06),
        Pattern(name: "Sunday", rest: [6], half: [], prior: 0.04),
        Pattern(name: "Saturday", rest: [5], half: [], prior: 0.01),
        Pattern(name: "none", rest: [], half: [], prior: 0.06),
        Pattern(name: "Friday", rest: [4], half: [], prior: 0.01),
        Pattern(name: "Friday, Thursday half", rest: [4], half: [3], prior: 0.01),
        Pattern(name: "Thursday-Friday", rest: [3, 4], half: [], prior: 0.01),
    ]

    /// The pattern and offset (in hours, halves included) that fit best.
    public var pattern: String
    public var offset: Double
    /// The posterior that the account keeps one of the asked weeks at one of the asked offsets.
    public var posterior: Double
    /// Active hours the fit rests on, and those on each local weekday (Monday first) at the best offset.
    public var activeHours: Int
    public var hoursByDay: [Int]

    /// Relative activity of a local hour of a day: ``TimeZoneEstimate``'s template, rest days × 0.15,
    /// half days × 0.5.
    static func weight(hour: Int, rest: Bool, half: Bool) -> Double {
        let base = TimeZoneEstimate.template(hour: hour, weekend: false)
        return rest ? base * 0.15 : half ? base * 0.5 : base
    }

    /// Of each pattern, the log-probability of the clock hour that starts at local half hour i of the week
    /// (336 half hours; the hour covers i and the next), normalised: computed once.
    static let logHours: [[Double]] = patterns.map { p in
        let w = (0..<336).map { i in
            weight(hour: (i / 2) % 24, rest: p.rest.contains(i / 48), half: p.half.contains(i / 48))
        }
        let sum = w.reduce(0, +)
        return (0..<336).map { i in log((w[i] + w[(i + 1) % 336]) / sum) }
    }

    /// The fit, and the posterior of the weeks `weeks` (pattern names) at offsets within `offsets`.
    /// nil with fewer than `minimumHours` active hours or less than `minimumDays` between the first and the
    /// last call (each weekday seen twice at least).
    /// - Complexity: O(active hours × 53 offsets × patterns).
    public static func estimate(
        hourOfWeek: [Int32], span: Int64, weeks: Set<String>, offsets: ClosedRange<Double>,
        minimumHours: Int = 20, minimumDays: Int64 = 14
    ) -> WeekFit? {
        let total = hourOfWeek.reduce(0) { $0 + Int($1) }
        guard total >= minimumHours, span >= minimumDays * 86_400, hourOfWeek.count == 168 else { return nil }
        var active: [(utc: Int, count: Double)] = []
        for utc in 0..<168 where hourOfWeek[utc] > 0 { active.append((utc, Double(hourOfWeek[utc]))) }
        // A UTC hour at an offset of h half hours covers local half hours 2·utc + h and the next.
        var lls: [(pattern: Int, halves: Int, ll: Double)] = []
        lls.reserveCapacity(patterns.count * 53)
        for (p, logp) in logHours.enumerated() {
            for halves in -24...28 {
                var ll = 0.0
                for (utc, count) in active {
                    var i = 2 * utc + halves
                    if i < 0 { i += 336 } else if i >= 336 { i -= 336 }
                    ll += count * logp[i]
                }
                lls.append((p, halves, ll + log(patterns[p].prior)))
            }
        }
        let top = lls.max { $0.ll < $1.ll }!
        var asked = 0.0
        var all = 0.0
        for (p, halves, ll) in lls {
            let q = exp(ll - top.ll)
            all += q
            if weeks.contains(patterns[p].name) && offsets.contains(Double(halves) / 2) { asked += q }
        }
        var days = [Int](repeating: 0, count: 7)
        for (utc, count) in active {
            // The local day of the hour's middle at the best offset.
            var i = 2 * utc + top.halves + 1
            i = ((i % 336) + 336) % 336
            days[i / 48] += Int(count)
        }
        return WeekFit(
            pattern: patterns[top.pattern].name, offset: Double(top.halves) / 2, posterior: asked / all,
            activeHours: total, hoursByDay: days)
    }
}
