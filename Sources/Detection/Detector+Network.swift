#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
package import UsageModel
import Ownership

extension Detector {
    /// Network: how many of the account's located calls came from restricted countries, as a
    /// Beta-Binomial log-likelihood ratio (``networkWeight(restricted:located:)``), capped when they all
    /// fall within a trip (``restrictedClock(_:_:)``: not one from an account on the restricted country's clock
    /// that hid its calls from elsewhere) or on too few days; beside it, an end customer declared elsewhere that the
    /// account's own calls do not bear out weighs less (a declaration is what a diverter controls).
    func networkEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        let time = c.time
        // Addresses many accounts share are exits in unrestricted countries, and not where the end customer
        // is declared, and only beyond the typical account's share of calls through them.
        let declared = draft.declaredElsewhere?.country
        if let activity = c.activity.map({ sharedReading($0, declared: declared, at: time, sharedNorm: c.sharedNorm) }),
            activity.locatedCalls > 0
        {
            // With an IP-intelligence feed, calls through anonymising networks with their exit in an
            // unrestricted country are left out of the share: they hide where the caller is (the dilution
            // a covert operator's VPN exits make). Calls from restricted countries count whatever network
            // they came through, so the feed can strengthen this evidence, never weaken it.
            let anonymous = activity.anonymousTotal
            let (k, countries) = activity.restrictedCalls(jurisdictionView, at: time)
            let (hidden, exits) = leftOut(activity, at: time, declared: declared)
            let direct = hidden > 0
            let n = activity.locatedCalls - hidden - exits.calls
            var weight = networkWeight(restricted: k, located: n)
            draft.networkShare = (k, n)
            // Where neither bound binds, the benign side of the ratio is said: what explains a share short of
            // a link is the benign accounts that call from restricted countries at all (an office, trips).
            let weighed =
                k > 0 && config.benignOfficeWeight > 0 && weight > config.networkWeightFloor
                && weight < config.networkWeightCap
            var note = ""
            // The steadiness fraction the share's weight was capped at, if it was.
            var unsteadyFraction: Double? = nil
            if weight > 0, let window = activity.restrictedWindow(jurisdictionView, at: time) {
                let length = window.last - window.first
                let steady = min(1, Double(window.days) / max(1, config.steadyDays))
                var days: String { JSONWriter.formatNumber(Double(length) / 86_400, decimals: 1) }
                // Seen elsewhere through anonymising networks is not seen elsewhere: an account whose
                // calls from elsewhere mostly hid their caller was, as far as they tell, where it hid.
                let elsewhere = activity.locatedCalls - k
                let hid = direct && Double(hidden) > config.tripHiddenShare * Double(elsewhere)
                let trip = isTrip(activity, window)
                // Nor is it a trip when the account keeps the restricted country's clock and was seen
                // elsewhere partly through anonymising networks: a traveller's calls from home keep home's
                // hours. Nor, with `steady_clock`, a few unlucky days of an account seen elsewhere.
                let unsteady = steady < 1 && config.steadyClock > 0.5
                let partlyHidden =
                    (trip || unsteady) && direct && Double(hidden) > config.tripClockHiddenShare * Double(elsewhere)
                let clock = partlyHidden ? restrictedClock(activity, countries.map(\.0)) : nil
                // Nor when its calls from elsewhere, partly hidden, exited in several countries: a traveller
                // is seen elsewhere from home, one place; an operator hiding where it is rotates its exits.
                let spread = partlyHidden && clock == nil ? exitSpread(activity, at: time) : nil
                if trip && !hid && clock == nil && spread == nil {
                    weight = min(weight, config.tripWeightCap)
                    note =
                        "; all within \(days) day(s) (\(Timestamp.format(window.first)) to \(Timestamp.format(window.last))) of an account seen elsewhere before or after: a trip explains them as well"
                } else {
                    if trip && hid {
                        note =
                            "; all within \(days) day(s), but \(hidden) of the \(elsewhere) calls from elsewhere came through anonymising networks: not a trip from an account seen elsewhere"
                    } else if let clock, trip {
                        note =
                            "; all within \(days) day(s), but the account keeps \(clock.text) hours (posterior \(JSONWriter.formatNumber(clock.posterior, decimals: 2)) within \(Int(config.tripClockHours)) hour(s) of it) and \(hidden) of the \(elsewhere) calls from elsewhere came through anonymising networks: not a trip from an account seen elsewhere"
                    } else if let spread, trip {
                        note =
                            "; all within \(days) day(s), but \(hidden) of the \(elsewhere) calls from elsewhere came through anonymising networks, exiting in \(spread): not a trip from an account seen elsewhere"
                    }
                    if steady < 1 {
                        if let clock, unsteady {
                            note +=
                                trip
                                ? "; on \(window.days) day(s) so far, on that clock and behind those networks: weighs in full"
                                : "; on \(window.days) day(s) so far, but the account keeps \(clock.text) hours (posterior \(JSONWriter.formatNumber(clock.posterior, decimals: 2)) within \(Int(config.tripClockHours)) hour(s) of it) and \(hidden) of the \(elsewhere) calls from elsewhere came through anonymising networks: weighs in full"
                        } else if let spread, unsteady {
                            note +=
                                trip
                                ? "; on \(window.days) day(s) so far, behind exits in several countries: weighs in full"
                                : "; on \(window.days) day(s) so far, but \(hidden) of the \(elsewhere) calls from elsewhere came through anonymising networks, exiting in \(spread): weighs in full"
                        } else {
                            weight = min(weight, steady * config.networkWeightCap)
                            unsteadyFraction = steady
                            note +=
                                "; on \(window.days) day(s) so far (full weight from \(Int(config.steadyDays.rounded(.up))))"
                        }
                    }
                }
            }
            // Beside network evidence for a restricted country, or beside shared identity with an account
            // linked to one (the same people's other declaration): do the account's own calls bear the
            // declaration out?
            let sharedLink = draft.evidence.contains {
                $0.kind == .sharedIdentity && $0.weight >= config.declaredSupportIdentityWeight
            }
            var hiding = k > 0 ? anonymityWeight(activity) : 0
            if k > 0 { draft.anonymousShare = (anonymousCounted(activity), activity.locatedCalls) }
            var hidingNote = ""
            if let steady = unsteadyFraction, config.anonymousSteady > 0.5,
                hiding > steady * config.anonymousWeightCap
            {
                hiding = steady * config.anonymousWeightCap
                hidingNote =
                    "; as the calls from restricted countries, weighs \(JSONWriter.formatNumber(steady, decimals: 2)) of its cap so far"
            }
            // Nothing declared, and the account's own reseller in a restricted country: where its own calls place it.
            if config.resellerPlacedFactor < 1 && draft.ownReseller != nil && c.mapping?.endCustomerCountry == nil {
                draft.placedCalls = activity.countryWithMostCalls(
                    jurisdictionView, at: time, direct: direct, excluding: exits.countries)
            }
            // The declared country's calls as this share counts them: not through anonymising networks when
            // it leaves those out, none when the country is an exit's (its unlisted calls may be the exit's).
            if let declared = draft.declaredElsewhere {
                let own =
                    exits.countries.contains(declared.country)
                    ? 0 : activity.calls(from: declared.country, direct: direct)
                draft.declaredCalls = own
                if weight > 0 || weight + hiding > 0 || sharedLink, Double(n) >= config.declaredSupportMinimumCalls,
                    Double(own) / Double(n) < config.declaredSupportShare
                {
                    draft.unsupportedDeclaration = (own, n)
                }
            }
            if k > 0 || weight > 0.5 {
                if weight > 0 || weight + hiding > 0 { countries.prefix(3).forEach { draft.reach($0.0) } }
                let list = countries.prefix(3).map { "\($0.0) \($0.1)" }.joined(separator: ", ")
                let share = Double(k) / Double(n)
                let exitList = exits.countries.prefix(3).map(\.description).joined(separator: ", ")
                // The declared country, kept though most of its calls came through listed ranges, is said.
                let kept =
                    exits.kept.map {
                        "; its \($0.calls) other calls from \($0.country) kept: most came through them, but its end customer is declared there"
                    } ?? ""
                let leftOut =
                    !direct
                    ? ""
                    : exits.calls == 0
                        ? " (leaving out \(hidden) through anonymising networks elsewhere\(kept))"
                        : " (leaving out \(hidden) through anonymising networks elsewhere, and \(exits.calls) more from \(exitList)\(exits.countries.count > 3 ? " and others" : ""), where most of its calls came through them\(kept))"
                let through = anonymous > 0 ? "; \(anonymityText(activity, sharedNorm: c.sharedNorm))" : ""
                let benign = weighed ? "; \(benignOfficeText)" : ""
                draft.evidence.append(
                    Evidence(
                        kind: .network,
                        detail:
                            "\(k) of \(n) located calls\(leftOut) from restricted countries (\(list.isEmpty ? "none" : list)); share \(JSONWriter.formatNumber(share, decimals: 3))\(benign)\(note)\(through)",
                        weight: weight))
                if hiding > 0 {
                    draft.evidence.append(
                        Evidence(
                            kind: .anonymousNetwork,
                            detail:
                                "\(anonymityText(activity, sharedNorm: c.sharedNorm)), beside \(k) call(s) from restricted countries: an operator hiding where it is\(hostingNote(activity))\(hidingNote)",
                            weight: hiding))
                }
            }
        }
    }

    /// "weighed against an office or trips there (18% of benign accounts, their share Beta(0.57, 17.88))": the
    /// benign mixture's component that explains a share short of a link (``networkWeight(restricted:located:)``).
    var benignOfficeText: String {
        let percent = Int((config.benignOfficeWeight * 100).rounded())
        let a = JSONWriter.formatNumber(config.benignOfficeAlpha, decimals: 2)
        let b = JSONWriter.formatNumber(config.benignOfficeBeta, decimals: 2)
        return "weighed against an office or trips there (\(percent)% of benign accounts, their share Beta(\(a), \(b)))"
    }

    /// The UTC offsets of those of `countries` whose clock says something (``clockCountries``), in order.
    static func clockOffsets(_ countries: [CountryCode]) -> [Int] {
        var offsets: [Int] = []
        for code in countries where clockCountries.contains(code.description) {
            for offset in (utcOffsets[code.description] ?? []).sorted() where !offsets.contains(offset) {
                offsets.append(offset)
            }
        }
        return offsets
    }

    /// Whether the account's calls from restricted countries, all within `window`, make a trip: the window
    /// no longer than `trip_days`, and the account seen elsewhere at least `trip_margin_days` before or after it.
    func isTrip(_ activity: AccountActivity, _ window: (first: EpochSeconds, last: EpochSeconds, days: Int)) -> Bool {
        let margin = Int64(config.tripMarginDays * 86_400)
        return Double(window.last - window.first) <= config.tripDays * 86_400
            && (activity.firstSeen <= window.first - margin || activity.lastSeen >= window.last + margin)
    }

    /// The restricted countries whose clock the trip's clock reads (``restrictedClock(_:_:)``): those it was
    /// measured on (the worlds' China-centred operators, UTC+8). Within two hours of another restricted
    /// country's offset lie hours no one has weighed — around Russia's or Belarus's UTC+3 lie continental
    /// Europe's, and a European traveller there keeps home's hours.
    static let clockCountries = Set(AccountActivity.clockCountryCodes.map(\.description))

    /// The clock of the restricted countries in `countries` the account's working hours keep: the time-zone
    /// posterior within `tripClockHours` of their UTC offsets (``utcOffsets``; of ``clockCountries`` only)
    /// when it is at least `tripClockPosterior` (or `minimum`), and the offsets as text ("UTC+8"); nil
    /// otherwise, or when none of them has an offset on record or the hours are too few to tell. `hours`:
    /// which of the account's active hours to read (by default all, ``AccountActivity/hourOfWeek``).
    func restrictedClock(
        _ activity: AccountActivity, _ countries: [CountryCode], minimum: Double? = nil, hours: [Int32]? = nil
    ) -> (posterior: Double, text: String)? {
        let offsets = Self.clockOffsets(countries)
        let minimum = minimum ?? config.tripClockPosterior
        guard minimum <= 1, activity.lastSeen >= activity.firstSeen,
            let posterior = TimeZoneEstimate.posterior(
                near: offsets, within: Int(config.tripClockHours), hourOfWeek: hours ?? activity.hourOfWeek,
                span: activity.lastSeen - activity.firstSeen),
            posterior >= minimum
        else { return nil }
        let text = offsets.map { "UTC\($0 >= 0 ? "+" : "-")\(abs($0))" }.joined(separator: " or ")
        return (posterior, text)
    }

    /// The unrestricted countries the account's calls through anonymising networks exited in, each with at
    /// least `tripExitMinimumCalls` of them, as text ("3 countries (SG 165, JP 15, US 4)") when they are at
    /// least `tripExitCountries`; nil otherwise, or with `tripExitCountries` 0 (never).
    func exitSpread(_ activity: AccountActivity, at time: EpochSeconds) -> String? {
        guard config.tripExitCountries >= 1 else { return nil }
        let exits = activity.anonymousExits(
            jurisdictionView, at: time, minimumCalls: Int(config.tripExitMinimumCalls))
        guard Double(exits.count) >= config.tripExitCountries else { return nil }
        let list = exits.prefix(3).map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        return "\(exits.count) countries (\(list)\(exits.count > 3 ? ", …" : ""))"
    }

    /// Whether the account's own calls lean to a restricted country: the network evidence's
    /// log-likelihood ratio of its share (calls through anonymising networks elsewhere left out as there,
    /// and through addresses many accounts share beyond the typical account's `sharedNorm`) above 0, before
    /// the caps of a trip or of too few days. What structuring asks of each of a reseller's undeclared
    /// accounts.
    package func callsLeanRestricted(_ activity: AccountActivity?, at time: EpochSeconds, sharedNorm: Double) -> Bool {
        guard let activity, activity.locatedCalls > 0 else { return false }
        let (k, _) = activity.restrictedCalls(jurisdictionView, at: time)
        guard k > 0 else { return false }
        // Structuring asks this of accounts with an unknown end customer only: no declared country to keep.
        let read = sharedReading(activity, declared: nil, at: time, sharedNorm: sharedNorm)
        let (hidden, exits) = leftOut(read, at: time, declared: nil)
        return networkWeight(restricted: k, located: read.locatedCalls - hidden - exits.calls) > 0
    }

    /// The readings an assessment may make of the account's calls through addresses many accounts share
    /// (``AccountActivity/sharedAsDirect(where:beyond:)``) at `time`, whatever its end customer's
    /// declaration: with none, and with each unrestricted country such calls came from (declaring one
    /// moves its calls to direct and leaves the others' share of the typical account's allowance: more of
    /// them stay through exits). A declaration of any other country reads as none. The activity itself,
    /// alone, when it has no such calls.
    func sharedReadings(_ activity: AccountActivity, at time: EpochSeconds, sharedNorm: Double) -> [AccountActivity] {
        let shared = activity.sharedCountries
        guard !shared.isEmpty else { return [activity] }
        let view = jurisdictionView
        let declared: [CountryCode?] = [nil] + shared.filter { !view.isRestricted($0, time) }
        return declared.map { sharedReading(activity, declared: $0, at: time, sharedNorm: sharedNorm) }
    }

    /// The account's calls as an assessment at `time` reads them with its end customer declared in `declared`
    /// (nil: nowhere): those through addresses many accounts share from that country or from one restricted
    /// at `time` counted as direct, and of the others only those beyond the typical account's `sharedNorm`
    /// through an exit (``AccountActivity/sharedAsDirect(where:beyond:)``).
    func sharedReading(
        _ activity: AccountActivity, declared: CountryCode?, at time: EpochSeconds, sharedNorm: Double
    ) -> AccountActivity {
        let view = jurisdictionView
        return activity.sharedAsDirect(where: { $0 == declared || view.isRestricted($0, time) }, beyond: sharedNorm)
    }

    /// Whether the account's own calls, as of `time`, could give network evidence of at least
    /// `lookback_network_weight` (before a trip's or the days' caps, which only lower it) from calls
    /// from restricted countries spread over longer than `trip_days`, the longest a trip is taken to
    /// last: what the look-back asks before assessing an account's remembered sessions again for its new
    /// calls from restricted countries on network evidence. A traveller mid-trip, not yet seen home again,
    /// is no trip by the network family's reading, but its calls from there span a trip's days at most.
    /// Each reading of its calls through shared addresses beyond the typical account's `sharedNorm` is
    /// asked (``sharedReadings(_:at:sharedNorm:)``), its exit countries as with no declared country (which
    /// leaves out the most). False with the weight at 0 (never).
    package func networkMayCarryLookBack(_ activity: AccountActivity, at time: EpochSeconds, sharedNorm: Double)
        -> Bool
    {
        guard config.lookbackNetworkWeight > 0, activity.locatedCalls > 0,
            let window = activity.restrictedWindow(jurisdictionView, at: time),
            Double(window.last - window.first) > config.tripDays * 86_400
        else { return false }
        let (k, _) = activity.restrictedCalls(jurisdictionView, at: time)
        guard k > 0 else { return false }
        return sharedReadings(activity, at: time, sharedNorm: sharedNorm).contains { read in
            let (hidden, exits) = leftOut(read, at: time, declared: nil)
            return networkWeight(restricted: k, located: read.locatedCalls - hidden - exits.calls)
                >= config.lookbackNetworkWeight
        }
    }

    /// Whether an assessment at `time` may weigh the account's calls as hiding where it is (its
    /// anonymising-network evidence, ``anonymityWeight(_:)`` above 0), wherever its end customer is
    /// declared: each reading of its calls through shared addresses beyond the typical account's
    /// `sharedNorm` is weighed (``sharedReadings(_:at:sharedNorm:)``; the weight is not monotone in the
    /// calls). What the look-back asks before assessing an account's remembered sessions again for its new
    /// calls from restricted countries: such an assessment alerts only with that evidence (or with network
    /// evidence ``networkMayCarryLookBack(_:at:sharedNorm:)`` allows, or carried). Where a population's
    /// typical account calls through shared addresses, most accounts' calls beyond it weigh nothing, and
    /// their remembered sessions are not assessed again at every call from a restricted country (the
    /// bench's standard corpus with SampleLogs' mappings: `shared_exit_accounts = 5` cost +18% CPU when any
    /// call that might hide passed). Countries are read as restricted at `time`, the assessment's at the
    /// session's start: a jurisdiction restricted between the two is a difference this leaves.
    package func hidingMayWeigh(_ activity: AccountActivity, at time: EpochSeconds, sharedNorm: Double) -> Bool {
        guard activity.hidingCalls(jurisdictionView, at: time, beyond: sharedNorm) > 0 else { return false }
        // Only a feed's exits: whether they weigh (a hosting range's calls count `anonymous_hosting_share` of a
        // call: a company's servers in other clouds alone weigh nothing, and are not looked at again).
        guard activity.sharedCalls > 0 else { return anonymityWeight(activity) > 0 }
        return sharedReadings(activity, at: time, sharedNorm: sharedNorm).contains {
            $0.locatedCalls > 0 && anonymityWeight($0) > 0
        }
    }

    /// The located calls the network share leaves out (with a feed and `network_skip_anonymous`): those
    /// through anonymising networks with their exit in an unrestricted country, and beside them the unlisted
    /// calls from the countries its exits are in (``AccountActivity/exitCountryCalls(_:at:share:declared:)``),
    /// with those countries — never the country its end customer is declared in (`declared`, with
    /// `exit_country_keeps_declared`), which is returned as `kept` when it would have been one. One rule for
    /// the network evidence and for structuring's reading of it.
    func leftOut(_ activity: AccountActivity, at time: EpochSeconds, declared: CountryCode?) -> (
        hidden: Int, exits: (calls: Int, countries: [CountryCode], kept: (country: CountryCode, calls: Int)?)
    ) {
        let hidden =
            config.networkSkipsAnonymous > 0.5 ? activity.anonymousElsewhere(jurisdictionView, at: time) : 0
        guard hidden > 0 else { return (0, (0, [], nil)) }
        return (
            hidden,
            activity.exitCountryCalls(
                jurisdictionView, at: time, share: config.exitCountryShare,
                declared: config.exitCountryKeepsDeclared > 0.5 ? declared : nil)
        )
    }

    /// "62% of located calls through anonymising networks (VPN 48%, hosting 14%): 310 of 500".
    /// `sharedNorm`: the share of its located calls the population's median account makes through
    /// addresses many accounts share, said beside the account's calls through them beyond it.
    func anonymityText(_ activity: AccountActivity, sharedNorm: Double = 0) -> String {
        let n = Double(activity.locatedCalls)
        let m = activity.anonymousTotal
        func percent(_ x: Int) -> String { "\(Int((Double(x) / n * 100).rounded()))%" }
        let kinds = AnonymousNetwork.Kind.allCases.filter { activity.anonymousCalls[$0.rawValue] > 0 }
            .map {
                let beyond =
                    $0 == .shared && sharedNorm > 0
                    ? " beyond the population's \(Int((sharedNorm * 100).rounded()))%" : ""
                return "\($0.name) \(percent(Int(activity.anonymousCalls[$0.rawValue])))\(beyond)"
            }
        return
            "\(percent(m)) of located calls through anonymising networks (\(kinds.joined(separator: ", "))): \(m) of \(activity.locatedCalls)"
    }

    /// "; hosting providers' calls weigh 0.25 of a call (37 of 330 counted)", when they weigh less than a call.
    func hostingNote(_ activity: AccountActivity) -> String {
        guard config.anonymousHostingShare < 1, activity.anonymousCalls[AnonymousNetwork.Kind.hosting.rawValue] > 0
        else { return "" }
        return
            "; hosting providers' calls weigh \(JSONWriter.formatNumber(config.anonymousHostingShare, decimals: 2)) of a call (\(anonymousCounted(activity)) of \(activity.locatedCalls) counted)"
    }

    /// The calls through anonymising networks the anonymising-network family counts: a hosting provider's
    /// at `anonymous_hosting_share` of a call (rounded), every other kind in full.
    func anonymousCounted(_ activity: AccountActivity) -> Int {
        let hosting = Int(activity.anonymousCalls[AnonymousNetwork.Kind.hosting.rawValue])
        guard hosting > 0, config.anonymousHostingShare < 1 else { return activity.anonymousTotal }
        return activity.anonymousTotal - hosting + Int((Double(hosting) * config.anonymousHostingShare).rounded())
    }

    /// The log-likelihood ratio of the account's share of located calls through anonymising networks,
    /// linked against benign (``DetectionConfig/anonymousLinkedAlpha``), in [0, `anonymousWeightCap`];
    /// 0 without any such call (no feed, or none listed).
    func anonymityWeight(_ activity: AccountActivity) -> Double {
        let m = anonymousCounted(activity)
        let n = activity.locatedCalls
        guard m > 0, n > 0, config.anonymousWeightCap > 0 else { return 0 }
        let llr = Self.betaBinomialRatio(
            m, of: n, linked: (config.anonymousLinkedAlpha, config.anonymousLinkedBeta),
            benign: (config.anonymousBenignAlpha, config.anonymousBenignBeta), otherBenign: (1, 1),
            weight: config.anonymousListingWeight)
        return min(config.anonymousWeightCap, max(0, llr))
    }

    /// Declared support: an end customer declared in an unrestricted country from which under
    /// `declaredSupportShare` of the account's located calls came, beside network evidence for a
    /// restricted one (or shared identity with an account linked to one, at least
    /// `declaredSupportIdentityWeight`), weighs `declaredUnsupportedFactor` of its weight — unless the account's rhythm
    /// bears the declaration out: it works through the PRC's public holidays (the holiday fit's
    /// log-likelihood ratio for the PRC calendar at or below −`declaredSupportHolidayRatio`), as a
    /// business elsewhere does and an operator in China does not, and at least
    /// `declaredSupportHolidayFloor` of its located calls came from the declared country (the rhythm says
    /// where the account is not; with almost none of its calls from there it says nothing of where it is).
    /// Runs after the holiday family.
    func declaredSupportEvidence(_ c: AssessmentContext, into draft: inout AssessmentDraft) {
        guard let declared = draft.declaredElsewhere, let (own, n) = draft.unsupportedDeclaration else { return }
        let share = Double(own) / Double(n)
        let calls =
            "; \(own) of \(n) located calls from \(declared.country) (share \(JSONWriter.formatNumber(share, decimals: 3)), below \(JSONWriter.formatNumber(config.declaredSupportShare, decimals: 2)))"
        let holiday = draft.holidayRatio.flatMap { $0 <= -config.declaredSupportHolidayRatio ? $0 : nil }
        if let ratio = holiday, share >= config.declaredSupportHolidayFloor {
            draft.evidence[declared.index].detail +=
                calls
                + ", but it works through the PRC's public holidays (log-likelihood ratio \(JSONWriter.formatNumber(ratio, decimals: 2)) for the PRC calendar): borne out by its rhythm, weighs in full"
        } else {
            // The rhythm says where the account is not, not where it is: with (almost) none of its calls
            // from the declared country it bears nothing of the declaration out.
            let rhythm =
                holiday.map {
                    " nor by its rhythm (it works through the PRC's public holidays, log-likelihood ratio \(JSONWriter.formatNumber($0, decimals: 2)) for the PRC calendar, but under \(JSONWriter.formatNumber(config.declaredSupportHolidayFloor, decimals: 3)) of its located calls came from \(declared.country))"
                } ?? ""
            draft.evidence[declared.index].weight *= config.declaredUnsupportedFactor
            draft.evidence[declared.index].detail +=
                calls
                + ": not borne out by the account's own calls\(rhythm), weighs \(JSONWriter.formatNumber(config.declaredUnsupportedFactor, decimals: 2)) of its weight"
        }
    }
}
