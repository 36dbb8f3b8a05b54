#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The operator's UTC offset, estimated from when an account is active: the likelihood of its
/// hour-of-week histogram under a working-week template (busy 09–18 local on weekdays, quieter
/// evenings, little at night or on weekends) shifted to each whole-hour offset from −12 to +14.
///
/// Reported as the best offset and its posterior probability under a uniform prior over offsets.
/// A time zone never alerts by itself (UTC+8 is also Singapore and Taipei): the detector uses it only
/// beside a link that names a jurisdiction.
public struct TimeZoneEstimate: Sendable, Equatable {
    public var offsetHours: Int
    public var confidence: Double
    /// Active clock hours the estimate rests on.
    public var activeHours: Int

    /// Relative activity of a local hour (0–23) on a weekday or a weekend day.
    static func template(hour: Int, weekend: Bool) -> Double {
        let base: Double
        switch hour {
        case 9..<18: base = 1.0
        case 7..<9, 18..<22: base = 0.35
        default: base = 0.04
        }
        return weekend ? base * 0.15 : base
    }

    /// log p(local hour of week) under the template, normalised: computed once.
    static let logTemplate: [Double] = {
        var sum = 0.0
        for h in 0..<168 { sum += template(hour: h % 24, weekend: h / 24 >= 5) }
        return (0..<168).map { h in log(template(hour: h % 24, weekend: h / 24 >= 5) / sum) }
    }()

    /// nil with fewer than `minimumHours` active hours or less than `minimumDays` between the first and
    /// the last call (two days, a weekend among them, would "prove" any offset).
    public static func estimate(
        hourOfWeek: [Int32], span: Int64, minimumHours: Int = 20, minimumDays: Int64 = 7
    ) -> TimeZoneEstimate? {
        guard
            let lls = logLikelihoods(
                hourOfWeek: hourOfWeek, span: span, minimumHours: minimumHours,
                minimumDays: minimumDays)
        else { return nil }
        let total = hourOfWeek.reduce(0) { $0 + Int($1) }
        let best = lls.max { $0.ll < $1.ll }!
        let denominator = lls.reduce(0.0) { $0 + exp($1.ll - best.ll) }
        return TimeZoneEstimate(offsetHours: best.offset, confidence: 1 / denominator, activeHours: total)
    }

    /// The posterior probability, under the same template and a uniform prior over the 27 offsets, that the
    /// operator's UTC offset lies within `hours` of one of `offsets`: how firmly the account keeps a given
    /// clock, whatever offset fits best (the template's working day is a guess; the neighbours of the true
    /// offset share its mass). nil where ``estimate(hourOfWeek:span:minimumHours:minimumDays:)`` is nil.
    /// - Complexity: O(active hours × 27).
    public static func posterior(
        near offsets: [Int], within hours: Int, hourOfWeek: [Int32], span: Int64, minimumHours: Int = 20,
        minimumDays: Int64 = 7
    ) -> Double? {
        guard !offsets.isEmpty,
            let lls = logLikelihoods(
                hourOfWeek: hourOfWeek, span: span, minimumHours: minimumHours, minimumDays: minimumDays)
        else { return nil }
        let top = lls.max { $0.ll < $1.ll }!.ll
        var near = 0.0
        var all = 0.0
        for (offset, ll) in lls {
            let p = exp(ll - top)
            all += p
            if offsets.contains(where: { abs($0 - offset) <= hours }) { near += p }
        }
        return near / all
    }

    /// The log-likelihood of the histogram under the template at each offset from −12 to +14; nil with too
    /// few active hours or too short a span.
    private static func logLikelihoods(
        hourOfWeek: [Int32], span: Int64, minimumHours: Int, minimumDays: Int64
    ) -> [(offset: Int, ll: Double)]? {
        let total = hourOfWeek.reduce(0) { $0 + Int($1) }
        guard total >= minimumHours, span >= minimumDays * 86_400, hourOfWeek.count == 168 else { return nil }
        let logp = logTemplate
        // The active hours once (most of the week is empty), then each offset over them in the same order.
        var active: [(utc: Int, count: Double)] = []
        active.reserveCapacity(168)
        for utc in 0..<168 where hourOfWeek[utc] > 0 { active.append((utc, Double(hourOfWeek[utc]))) }
        var lls: [(offset: Int, ll: Double)] = []
        lls.reserveCapacity(27)
        for offset in -12...14 {
            var ll = 0.0
            for (utc, count) in active {
                // utc + offset lies in -12 ..< 182: one wrap at most.
                var local = utc + offset
                if local < 0 { local += 168 } else if local >= 168 { local -= 168 }
                ll += count * logp[local]
            }
            lls.append((offset, ll))
        }
        return lls
    }
}
