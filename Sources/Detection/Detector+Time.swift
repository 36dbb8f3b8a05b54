#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
package import UsageModel
import Catalog
import Ownership

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

    /// Restricted countries whose working week differs from their neighbours' and from most accounts': the
    /// weeks (``WeekFit/patterns``) and the standard UTC offset (hours) that tell them, within an hour and a
    /// half (a working day of eight hours fits the template's 09–18 at offsets an hour and more apart).
    /// Iran: Saturday to Thursday, Friday the rest, Thursday often half (UTC+3:30, no summer time since
    /// 2022); Afghanistan: Friday the rest, Thursday half (UTC+4:30).
    static let weekCountries: [(code: CountryCode, weeks: Set<String>, offset: Double)] = [
        (CountryCode("IR")!, ["Friday", "Friday, Thursday half", "Thursday-Friday"], 3.5),
        (CountryCode("AF")!, ["Friday", "Friday, Thursday half", "Thursday-Friday"], 4.5),
    ]

    /// Unrestricted countries where Friday is a day of rest for many (Friday–Saturday weeks; the UAE, whose
    /// Saturday–Sunday week of 2022 left Friday afternoons off and many private six-day weeks resting on
    /// Friday; Brunei, Friday and Sunday): an account calling from one may keep Iran's week at home.
    static let fridayRest: [CountryCode] = [
        "AE", "BH", "BD", "BN", "DJ", "DZ", "EG", "IL", "JO", "KW", "MV", "OM", "PS", "QA", "SA", "YE",
    ].map { CountryCode($0)! }

    /// The restricted country whose working week and clock the account keeps (``weekCountries``, restricted at
    /// `time`), with the fit, when its posterior is at least `week_posterior` and its calls do not place it in a
    /// country where Fridays are rested; nil when not (or `week_weight` is 0). `declared`: the country its end
    /// customer is declared in, if unrestricted. A first look of 168 additions leaves most accounts out: they
    /// work Fridays.
    func weekReading(
        _ activity: AccountActivity, at time: EpochSeconds, declared declaredCountry: () -> CountryCode?,
        sharedNorm: Double
    ) -> (code: CountryCode, fit: WeekFit, calls: (declared: Int, located: Int))? {
        guard config.weekWeight > 0, activity.lastSeen >= activity.firstSeen else { return nil }
        let candidates = Self.weekCountries.filter { jurisdictions.isRestricted($0.code, at: time) }
        guard !candidates.isEmpty else { return nil }
        let hours = activity.hourOfWeek
        guard Self.quietFriday(hours) else { return nil }
        let weeks = candidates.reduce(into: Set<String>()) { $0.formUnion($1.weeks) }
        let low = candidates.map(\.offset).min()! - 1.5
        let high = candidates.map(\.offset).max()! + 1.5
        guard
            let fit = WeekFit.estimate(
                hourOfWeek: hours, span: activity.lastSeen - activity.firstSeen, weeks: weeks, offsets: low...high),
            fit.posterior >= config.weekPosterior,
            // The country whose clock is nearest the best offset (Iran's on a tie).
            let country = candidates.filter({ $0.weeks.contains(fit.pattern) && abs($0.offset - fit.offset) <= 1.5 })
                .min(by: { abs($0.offset - fit.offset) < abs($1.offset - fit.offset) })
        else { return nil }
        // The declared country is asked only of an account the fit names (the look-back reads it of the mapping).
        let declared = declaredCountry()
        // Calls from a country where Fridays are rested (as the network share counts them: not through
        // anonymising networks elsewhere, none from an exit's country): its people may work there, on its week
        // and some Saturdays (an Israeli lab, a six-day firm in the Gulf). The week then says nothing of Iran.
        let read = sharedReading(activity, declared: declared, at: time, sharedNorm: sharedNorm)
        let (hidden, exits) = leftOut(read, at: time, declared: declared)
        let n = read.locatedCalls - hidden - exits.calls
        func calls(_ code: CountryCode) -> Int {
            exits.countries.contains(code) ? 0 : read.calls(from: code, direct: hidden > 0)
        }
        if n > 0, Double(n) >= config.declaredSupportMinimumCalls {
            for code in Self.fridayRest where Double(calls(code)) / Double(n) >= config.declaredSupportShare {
                return nil
            }
        }
        return (country.code, fit, (declared.map(calls) ?? 0, max(0, n)))
    }

    /// The first look: at UTC+4, Friday's active hours under half the average of the other days' (168 additions).
    static func quietFriday(_ hours: [Int32]) -> Bool {
        var days = [Int](repeating: 0, count: 7)
        for utc in 0..<168 { days[((utc + 4) % 168) / 24] += Int(hours[utc]) }
        return 12 * days[4] < days.reduce(0, +) - days[4]
    }

    /// Whether the account's working week names a restricted country now (``weekReading(_:at:declared:sharedNorm:)``,
    /// with the end customer `provider`'s mapping declares at `time`): the pipeline's look-back asks it of
    /// accounts with remembered sessions and calls at a tick.
    package func weekNames(
        _ activity: AccountActivity, provider: String, account: String, at time: EpochSeconds, sharedNorm: Double
    ) -> Bool {
        weekReading(
            activity, at: time,
            declared: {
                let declared = mappings.mapping(provider: provider, account: account, at: time)?.endCustomerCountry
                return declared.flatMap { jurisdictions.isRestricted($0, at: time) ? nil : $0 }
            }, sharedNorm: sharedNorm) != nil
    }

    /// The working week (`week_weight`): an account with restricted use whose active hours keep the week and
    /// clock of a restricted country that keeps its own (``weekCountries``), the posterior at least
    /// `week_posterior`, names it, unless its calls place it where Fridays are rested. Its calls come from where
    /// it is not (Iranian addresses reach no US cloud); its days and hours are where it is. It weighs the fit's
    /// posterior log-odds less the prior's (alone, the score is the fit's posterior), in [0, `week_weight`].
    /// Beside an end customer declared in an unrestricted country: where at least `declared_support_min_calls`
    /// located calls are counted (as the network share counts them), half the weight when
    /// `declared_support_share` of them come from the declared country (a six-day firm there rests on Fridays
    /// too), else the declaration weighs `week_declared_factor` of its weight (the front's country keeps
    /// another week).
    func weekEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        guard c.restricted, let activity = c.activity,
            let (country, fit, counts) = weekReading(
                activity, at: c.time, declared: { draft.declaredElsewhere?.country }, sharedNorm: c.sharedNorm)
        else { return }
        // The fit's posterior as the score it would give alone: its log-odds over the prior's.
        let odds = log(fit.posterior / max(1e-12, 1 - fit.posterior))
        var weight = min(config.weekWeight, max(0, odds - config.priorLogOdds))
        var borne = ""
        if let declared = draft.declaredElsewhere, counts.located > 0,
            Double(counts.located) >= config.declaredSupportMinimumCalls
        {
            if Double(counts.declared) / Double(counts.located) >= config.declaredSupportShare {
                weight *= 0.5
                borne =
                    "; its own calls bear its end customer's declaration out (\(counts.declared) of \(counts.located) located calls from \(declared.country)): a six-day week there rests on Fridays too, weighs half"
            } else if config.weekDeclaredFactor < 1 {
                // The declared country keeps another week (only Iran and Afghanistan rest on Friday alone): the
                // declaration is not where the account's people work.
                draft.evidence[declared.index].weight *= config.weekDeclaredFactor
                draft.evidence[declared.index].detail +=
                    "; the account keeps \(country)'s working week, not \(declared.country)'s, and its calls do not bear the declaration out (\(counts.declared) of \(counts.located) located calls from there): weighs \(JSONWriter.formatNumber(config.weekDeclaredFactor, decimals: 2)) of its weight"
            }
        }
        let names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        let byDay = zip(names, fit.hoursByDay).map { "\($0) \($1)" }.joined(separator: ", ")
        let sign = fit.offset >= 0 ? "+" : "-"
        let whole = Int(abs(fit.offset))
        let clock = abs(fit.offset) > Double(whole) ? "\(whole):30" : "\(whole)"
        draft.reach(country)
        draft.week = draft.evidence.count
        draft.evidence.append(
            Evidence(
                kind: .time,
                detail:
                    "keeps \(country)'s working week and clock: rests on \(fit.pattern == "Thursday-Friday" ? "Thursday and Friday" : "Friday")\(fit.pattern == "Friday, Thursday half" ? " (Thursday half)" : "") and works Saturday and Sunday on UTC\(sign)\(clock) hours (posterior \(JSONWriter.formatNumber(fit.posterior, decimals: 3)) over \(WeekFit.patterns.count) weeks and 53 offsets; \(fit.activeHours) active hours by local day: \(byDay)); its calls came from where it is not\(borne)",
                weight: weight))
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
        // Calls from there on one day are one sitting (a visit, a demo at a conference), however many: the first
        // and the last fall on days (UTC+8, the clock countries' own) at least `clock_min_days` apart, counted
        // inclusively.
        guard let window = activity.window(from: clocked.map(\.0)),
            Double(HolidayCalendar.prc.localDay(window.last) - HolidayCalendar.prc.localDay(window.first) + 1)
                >= config.clockMinimumDays
        else { return nil }
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
