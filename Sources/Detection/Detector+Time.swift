import UsageModel
import Catalog

extension Detector {
    /// Time: weighs only beside a named jurisdiction, so it is estimated only where an alert is
    /// possible (restricted use, a jurisdiction reached): it is the costliest evidence to compute.
    /// (An account whose calls all came from its instances' roles has no first or last call.)
    func timeZoneEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        if let reading = restrictedClockReading(c, draft) {
            reading.countries.forEach { draft.reach($0) }
            draft.clockNames = true
            draft.evidence.append(Evidence(kind: .time, detail: reading.detail, weight: config.clockWeight))
            return
        }
        let restricted = c.restricted
        if restricted, !draft.reached.isEmpty, let activity = c.activity, activity.lastSeen >= activity.firstSeen,
            let tz = TimeZoneEstimate.estimate(
                hourOfWeek: activity.hourOfWeek, span: activity.lastSeen - activity.firstSeen)
        {
            let sign = tz.offsetHours >= 0 ? "+" : "-"
            let matching = draft.reached.filter { Self.utcOffsets[$0.description]?.contains(tz.offsetHours) == true }
            let weight = !matching.isEmpty && tz.confidence >= config.timeZoneConfidence ? config.timeZoneWeight : 0
            var detail =
                "activity fits UTC\(sign)\(abs(tz.offsetHours)) (posterior \(JSONWriter.formatNumber(tz.confidence, decimals: 2)) over 27 offsets, \(tz.activeHours) active hours)"
            if let first = matching.first { detail += ", the time of \(first)" }
            draft.evidence.append(Evidence(kind: .time, detail: detail, weight: weight))
        }
    }

    /// Holidays: whether the account rests on the PRC's public holidays and works its make-up weekend
    /// days; weighs only beside a link to China.
    func holidayEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        let restricted = c.restricted
        if restricted, !draft.reached.isEmpty, let activity = c.activity, activity.lastSeen >= activity.firstSeen {
            if let fit = prcHolidayFit(activity) {
                draft.holidayRatio = fit.logLikelihoodRatio
                let china = draft.reached.contains(Self.china)
                let weight = china && fit.logLikelihoodRatio >= config.holidayMinimumRatio ? config.holidayWeight : 0
                let percent = JSONWriter.formatNumber(100 * fit.workingRate, decimals: 0)
                draft.evidence.append(
                    Evidence(
                        kind: .holiday,
                        detail:
                            "active on \(fit.activeHolidays) of \(fit.holidays) PRC public holiday(s) on working days and \(fit.activeMakeupDays) of \(fit.makeupDays) make-up weekend day(s), against \(percent)% of working days; log-likelihood ratio \(JSONWriter.formatNumber(fit.logLikelihoodRatio, decimals: 2)) for the PRC calendar (posterior \(JSONWriter.formatNumber(fit.confidence, decimals: 2)))",
                        weight: weight))
            }
        }
    }

    /// How the account's active days fit the PRC's public-holiday calendar from its first call to its last
    /// (the holiday family's estimate; nil where it cannot be told).
    func prcHolidayFit(_ activity: AccountActivity) -> HolidayFit? {
        let calendar = HolidayCalendar.prc
        return HolidayFit.estimate(
            activeDays: activity.activeDays,
            days: calendar.localDay(activity.firstSeen)...calendar.localDay(activity.lastSeen), calendar: calendar,
            dip: config.holidayDip)
    }

    /// Whether the account's hours of calls not from a clock country (``AccountActivity/hourOfWeekElsewhere``)
    /// keep the clock of `countries` too: their time-zone posterior within `trip_clock_hours` of it at least
    /// `clock_elsewhere_posterior` (0: not asked). Text for the evidence when they do, empty when not asked;
    /// nil when they keep another clock or are too few to tell (under 20 active hours or a week: early in a
    /// stream, or a visit seen from home on a handful of hours), which leaves the reading untested.
    func elsewhereClock(_ activity: AccountActivity, _ countries: [CountryCode]) -> String? {
        guard config.clockElsewherePosterior > 0 else { return "" }
        let hours = activity.hourOfWeekElsewhere
        guard
            let (posterior, _) = restrictedClock(
                activity, countries, minimum: config.clockElsewherePosterior, hours: hours)
        else { return nil }
        return
            "its \(hours.reduce(0) { $0 + Int($1) }) active hour(s) with calls located elsewhere keep it too (posterior \(JSONWriter.formatNumber(posterior, decimals: 2)))"
    }

    /// The whole-hour UTC offsets kept in countries where end customers are commonly declared, standard
    /// and summer time (half hours both ways: India +5 and +6), for the restricted clock's question
    /// whether the declared country keeps the restricted country's hours. A country not listed may: the
    /// reading then stays out.
    static let declaredOffsets: [String: Set<Int>] = [
        "US": Set(-10 ... -4), "CA": Set(-8 ... -2), "MX": Set(-8 ... -5), "BR": Set(-5 ... -2),
        "GB": [0, 1], "IE": [0, 1], "PT": [0, 1], "IS": [0],
        "FR": [1, 2], "DE": [1, 2], "NL": [1, 2], "BE": [1, 2], "LU": [1, 2], "ES": [1, 2], "IT": [1, 2],
        "CH": [1, 2], "AT": [1, 2], "SE": [1, 2], "NO": [1, 2], "DK": [1, 2], "PL": [1, 2], "CZ": [1, 2],
        "FI": [2, 3], "EE": [2, 3], "LV": [2, 3], "LT": [2, 3], "GR": [2, 3], "RO": [2, 3], "BG": [2, 3],
        "UA": [2, 3], "IL": [2, 3], "TR": [3], "SA": [3], "AE": [4], "IN": [5, 6], "PK": [5],
        "TH": [7], "VN": [7], "ID": [7, 8, 9], "MY": [8], "SG": [8], "PH": [8], "TW": [8],
        "JP": [9], "KR": [9], "AU": Set(8...11), "NZ": [12, 13],
    ]

    /// The restricted country's clock (`clock_weight`): an account that made at least `clock_min_calls`
    /// located calls from a restricted country keeping a clock (``clockCountries``) and keeps that
    /// country's hours (``restrictedClock(_:_:)`` with `clock_posterior`), and so do its calls located
    /// elsewhere (``elsewhereClock(_:_:)``), while its end customer, if one
    /// is declared, is declared where other hours are kept. Its calls from elsewhere then came from where
    /// it is not; without an IP-intelligence feed that is how an operator hiding behind exits and hosted
    /// machines shows. Nil when it does not hold (or `clock_weight` is 0).
    func restrictedClockReading(_ c: AssessmentContext, _ draft: AssessmentDraft) -> (
        countries: [CountryCode], detail: String
    )? {
        guard config.clockWeight > 0, c.restricted, let activity = c.activity, activity.locatedCalls > 0,
            activity.lastSeen >= activity.firstSeen
        else { return nil }
        let (k, countries) = activity.restrictedCalls(jurisdictionView, at: c.time)
        let clocked = countries.filter { Self.clockCountries.contains($0.0.description) }
        let calls = clocked.reduce(0) { $0 + $1.1 }
        guard k > 0, Double(calls) >= config.clockMinimumCalls else { return nil }
        // With `clock_trip`: calls from there that all fall within a trip (the network family's `trip_days` of
        // an account seen elsewhere before or after) are a visit, whatever hours the account keeps. Off by
        // default: the hours of the calls from elsewhere (below) tell a visitor, and the trip test also took
        // the operators whose calls from China came late in the window.
        if config.clockTrip > 0.5, let window = activity.restrictedWindow(jurisdictionView, at: c.time),
            isTrip(activity, window)
        {
            return nil
        }
        let hours = Int(config.tripClockHours)
        if let declared = draft.declaredElsewhere?.country {
            let offsets = Self.clockOffsets(clocked.map(\.0))
            guard let own = Self.declaredOffsets[declared.description],
                !own.contains(where: { o in offsets.contains { abs($0 - o) <= hours } })
            else { return nil }
        }
        guard let (posterior, text) = restrictedClock(activity, clocked.map(\.0), minimum: config.clockPosterior)
        else { return nil }
        // What the reading says is that the calls from elsewhere came from where the account is not: then
        // their own hours keep the restricted country's clock too. A traveller's or a multinational's calls
        // from home keep home's hours, whatever its office or its days in China add to the account's.
        guard let elsewhere = elsewhereClock(activity, clocked.map(\.0)) else { return nil }
        // Nor an account that works through the PRC's public holidays (the holiday family's fit, clearly
        // against the calendar): its people are not where those holidays are kept.
        if config.clockHolidayRatio > 0, let fit = prcHolidayFit(activity),
            fit.logLikelihoodRatio <= -config.clockHolidayRatio
        {
            return nil
        }
        // And, where an end customer is declared elsewhere, some of its calls from elsewhere hid where they came
        // from (`clock_hidden_calls`): calls from elsewhere none of which came through an exit came from there,
        // on those hours — a team in China working through the network of its company declared abroad.
        var hiddenText = ""
        if config.clockHiddenCalls > 0, let declared = draft.declaredElsewhere?.country {
            let hidden = sharedReading(activity, declared: declared, at: c.time, sharedNorm: c.sharedNorm)
                .anonymousElsewhere(jurisdictionView, at: c.time)
            guard Double(hidden) >= config.clockHiddenCalls else { return nil }
            hiddenText = "; \(hidden) of them came through anonymising networks"
        }
        let list = clocked.prefix(3).map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        let declaredText =
            draft.declaredElsewhere.map { "its end customer is declared in \($0.country), which keeps other hours" }
            ?? "no end customer's country is declared"
        let detail =
            "keeps \(text) hours (posterior \(JSONWriter.formatNumber(posterior, decimals: 2)) within \(hours) hour(s) of it), the clock of the restricted country its \(calls) call(s) from \(list) came from, of \(activity.locatedCalls) located; \(elsewhere.isEmpty ? "" : elsewhere + "; ")\(declaredText): its calls from elsewhere came from where it is not\(hiddenText)"
        return (clocked.map(\.0), detail)
    }
}
