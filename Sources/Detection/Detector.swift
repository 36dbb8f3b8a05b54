#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
public import UsageModel
public import Catalog
public import Ownership
public import Sessions

/// Scores a session: restricted consumption (catalogue) is the gate; links to restricted jurisdictions
/// (declared country, reseller chain, network) are the evidence, each a log-likelihood ratio.
/// Pure and deterministic: no I/O.
public struct Detector: Sendable {
    public var catalog: InstanceCatalog
    public var jurisdictions: RestrictedJurisdictions
    public var mappings: MappingTable
    public var resellers: ResellerGraph
    public var config: DetectionConfig

    public init(
        catalog: InstanceCatalog, jurisdictions: RestrictedJurisdictions, mappings: MappingTable,
        resellers: ResellerGraph, config: DetectionConfig
    ) {
        self.catalog = catalog
        self.jurisdictions = jurisdictions
        self.mappings = mappings
        self.resellers = resellers
        self.config = config
    }

    /// An account that may be operated by the same people as the assessed one (``IdentityGraph``),
    /// directly or (`via`) through one account in between.
    public struct IdentityPartner: Sendable {
        public var account: String
        /// The posterior probability of one operator (the product of both steps' for a two-step partner).
        public var probability: Double
        /// What the two share, described (values, how many accounts show each, their shares of calls).
        public var shared: String
        public var via: String?
        /// Where the shared values were seen: the inputs being read when they became shared.
        public var seenIn: [String]
        /// The log-likelihood ratio of the shared set, one operator against chance, before any prior
        /// (the last step's for a two-step partner).
        public var logRatio: Double

        public init(
            account: String, probability: Double, shared: String, via: String? = nil, seenIn: [String] = [],
            logRatio: Double = 0
        ) {
            self.account = account
            self.probability = probability
            self.logRatio = logRatio
            self.shared = shared
            self.via = via
            self.seenIn = seenIn
        }
    }

    /// The full assessment of a session, alert or not.
    public struct Assessment: Sendable {
        public var session: Session
        public var spec: InstanceSpec?
        public var restrictedConsumption: Bool
        public var mapping: MappingRow?
        public var chain: [Reseller]
        public var evidence: [Evidence]
        public var jurisdictions: [CountryCode]
        public var score: Double
        public var acceleratorCount: Double
        public var acceleratorHours: Double
        /// Whether the assessment is an alert under the configured threshold.
        public var alerts: Bool
        /// Ids this session had while it ran and was alerted (an earlier event arrived since): the
        /// store's rows under them are this session's.
        public var supersedes: [String] = []
        /// The calibration family of each evidence (``DetectionConfig/families``), in order.
        public var families: [String] = []
        /// The accounts the ring evidence counted as this one's peers (in the order found): when this
        /// session alerts, their earlier sessions are looked at again, as the account's own are.
        public var ringPeers: [String] = []
    }

    public var jurisdictionView: RestrictedJurisdictionsView {
        let j = jurisdictions
        return RestrictedJurisdictionsView { j.isRestricted($0, at: $1) }
    }

    /// Assesses `session` given the account's activity so far.
    /// Standard UTC offsets of restricted jurisdictions whose clocks say something (whole hours; Iran's
    /// +3:30 rounds both ways). China, Hong Kong and Macau keep one time, UTC+8 — as do Singapore,
    /// Taipei, Manila and Perth, which is why time never links alone.
    static let utcOffsets: [String: Set<Int>] = [
        "CN": [8], "HK": [8], "MO": [8], "RU": [3], "BY": [3], "KP": [9], "IR": [3, 4], "SY": [3],
    ]

    /// Evidence that only strengthens a link other evidence makes (it names no jurisdiction of its own).
    static let boosters: Set<String> = ["catalog", "time", "holiday", "volume", "structuring"]
    static let china = CountryCode("CN")!

    /// The strongest restricted link a mapping gives, undescribed: the declared country, or the
    /// reseller of the chain (at `depth`) in a restricted country or serving restricted ones.
    private struct MappingLink {
        var weight: Double
        var countries: [CountryCode]
        var reseller: Reseller?
        /// Whether the reseller serves the countries (rather than being in one).
        var serves: Bool
    }

    private func strongestMappingLink(provider: String, account: String, at time: EpochSeconds) -> MappingLink? {
        guard let mapping = mappings.mapping(provider: provider, account: account, at: time) else { return nil }
        if let country = mapping.endCustomerCountry {
            return jurisdictions.isRestricted(country, at: time)
                ? MappingLink(weight: config.declaredCountryWeight, countries: [country], reseller: nil, serves: false) : nil
        }
        guard let resellerID = mapping.resellerID else { return nil }
        var best: MappingLink? = nil
        for (depth, reseller) in resellers.chain(from: resellerID).enumerated() {
            let decay = pow(config.chainDecay, Double(depth))
            if let country = reseller.country, jurisdictions.isRestricted(country, at: time) {
                let w = config.resellerCountryWeight * decay
                if best == nil || w > best!.weight { best = MappingLink(weight: w, countries: [country], reseller: reseller, serves: false) }
            }
            let served = jurisdictions.restricted(in: reseller.servesCountries, at: time)
            if !served.isEmpty {
                let w = config.resellerServesWeight * decay
                if best == nil || w > best!.weight { best = MappingLink(weight: w, countries: served, reseller: reseller, serves: true) }
            }
        }
        return best
    }

    /// The restricted jurisdictions a reseller chain reaches (a reseller in one, or serving one),
    /// whatever the end customer declares, and the resellers that reach them.
    func chainReach(from resellerID: String, at time: EpochSeconds) -> (countries: [CountryCode], via: String) {
        var countries: [CountryCode] = []
        var via: [String] = []
        for reseller in resellers.chain(from: resellerID) {
            var hit = false
            if let c = reseller.country, jurisdictions.isRestricted(c, at: time) {
                if !countries.contains(c) { countries.append(c) }
                hit = true
            }
            for c in jurisdictions.restricted(in: reseller.servesCountries, at: time) {
                if !countries.contains(c) { countries.append(c) }
                hit = true
            }
            if hit { via.append(reseller.id) }
        }
        return (countries, via.joined(separator: ", "))
    }

    /// Whether the mapping of `account` at `time` names a reseller chain that reaches a restricted
    /// jurisdiction, whatever the end customer declares (rings).
    public func chainReaches(provider: String, account: String, at time: EpochSeconds) -> Bool {
        guard let r = mappings.mapping(provider: provider, account: account, at: time)?.resellerID else { return false }
        return !chainReach(from: r, at: time).countries.isEmpty
    }

    /// Whether the mapping of `account` at `time` links it to a restricted jurisdiction.
    public func hasMappingLink(provider: String, account: String, at time: EpochSeconds) -> Bool {
        strongestMappingLink(provider: provider, account: account, at: time) != nil
    }

    /// The link a mapping gives an account at `time`: the declared country if restricted, else the best
    /// restricted reseller of its chain (with depth decay); nil when none.
    public func mappingLink(provider: String, account: String, at time: EpochSeconds) -> (
        weight: Double, detail: String, countries: [CountryCode]
    )? {
        guard let link = strongestMappingLink(provider: provider, account: account, at: time) else { return nil }
        let detail: String
        if let reseller = link.reseller {
            detail = link.serves
                ? "reseller \(reseller.id) serving \(link.countries.map(\.description).joined(separator: ";"))"
                : "reseller \(reseller.id) in \(link.countries[0])"
        } else {
            detail = "end customer declared in \(link.countries[0])"
        }
        return (link.weight, detail, link.countries)
    }

    /// What a session consumed, without assessing it: whether restricted, its accelerator-hours, the
    /// mapping at its start.
    public func usage(of session: Session) -> (restricted: Bool, acceleratorHours: Double, mapping: MappingRow?) {
        let c = consumption(of: session)
        return (c.restricted, c.hours, mappings.mapping(provider: session.provider.rawValue, account: session.accountID, at: session.start))
    }

    /// The catalogue's entry for the session's type, its accelerators, accelerator-hours, and whether
    /// they are restricted at its start.
    private func consumption(of session: Session) -> (spec: InstanceSpec?, count: Double, hours: Double, restricted: Bool) {
        let spec = session.instanceType.flatMap { catalog.lookup($0) }
        let perInstance = spec?.acceleratorCount ?? 0
        let restricted = spec.map { $0.accelerator.control.isRestricted(at: session.start) } ?? false
        return (spec, perInstance * Double(session.instanceCount), perInstance * session.instanceHours, restricted)
    }

    /// Whether instance type `type` carries accelerators restricted at some time (a cheap first filter).
    public func restrictedType(_ type: String) -> Bool {
        guard let spec = catalog.lookup(type) else { return false }
        return spec.accelerator.control.isRestricted(at: .max)
    }

    /// Whether `session` consumes accelerators restricted at its start (the gate of every alert).
    public func consumesRestricted(_ session: Session) -> Bool { consumption(of: session).restricted }

    public func assess(_ session: Session, activity: AccountActivity?) -> Assessment {
        assess(session, activity: activity, partners: [])
    }

    /// - Parameter partners: accounts sharing uncommon identifiers with the session's account, with
    ///   how many (``IdentityGraph``).
    public func assess(
        _ session: Session, activity: AccountActivity?, partners: [IdentityPartner],
        aggregate: ResellerAggregate? = nil, volume: VolumeBook? = nil
    ) -> Assessment {
        let time = session.start
        let (spec, count, hours, restricted) = consumption(of: session)
        var evidence: [Evidence] = []
        var reached: [CountryCode] = []
        func reach(_ code: CountryCode) { if !reached.contains(code) { reached.append(code) } }

        if let spec {
            let tpp = spec.accelerator.tpp.map { JSONWriter.formatNumber($0, decimals: 1) } ?? "unpublished"
            let countText = JSONWriter.formatNumber(count, decimals: 2)
            evidence.append(
                Evidence(
                    kind: "catalog",
                    detail:
                        "\(spec.instanceType): \(countText) x \(spec.accelerator.model), TPP \(tpp), \(spec.accelerator.control)\(restricted ? "" : " (not restricted)")",
                    weight: 0, sources: [spec.source]))
        }

        // What the sources say of the run: audit (who launched it, from where) and billing (how long).
        let usage = session.events.filter { $0.action == .usage }
        if !usage.isEmpty {
            let billed = JSONWriter.formatNumber(session.billedInstanceHours, decimals: 2)
            let launch = session.events.first { $0.action == .launch || $0.action == .start }
            let records = usage.reduce(0) { $0 + $1.usageRecords }
            var detail = "billed \(billed) instance-hour(s) in \(records) billing record(s)"
            if let launch {
                let who = launch.principal.map { " by \($0)" } ?? ""
                let from = launch.sourceIP.map { " from \($0)" } ?? ""
                detail += "; launched\(who)\(from) (\(launch.eventName), audit log)"
            }
            var sources = usage.prefix(3).map { $0.origin.description }
            if let launch { sources.insert(launch.origin.description, at: 0) }
            evidence.append(Evidence(kind: launch == nil ? "billing" : "audit+billing", detail: detail, weight: 0, sources: sources))
        }

        let mapping = mappings.mapping(provider: session.provider.rawValue, account: session.accountID, at: time)
        /// The evidence of an end customer declared in an unrestricted country, and that country.
        var declaredElsewhere: (index: Int, country: CountryCode)? = nil
        var chain: [Reseller] = []
        /// The index of reseller-chain evidence from a reseller above the account's own, if any, and
        /// whether it is a reseller that serves a restricted country (not one incorporated there).
        var upstream: Int? = nil
        var upstreamServes = false
        if let mapping {
            if let country = mapping.endCustomerCountry {
                if jurisdictions.isRestricted(country, at: time) {
                    reach(country)
                    evidence.append(
                        Evidence(
                            kind: "declared-country",
                            detail: "end customer \(mapping.endCustomerID ?? "(unnamed)") declared in \(country)\(basisText(country))",
                            weight: config.declaredCountryWeight, sources: [mapping.origin]))
                } else {
                    declaredElsewhere = (evidence.count, country)
                    evidence.append(
                        Evidence(
                            kind: "declared-country",
                            detail: "end customer \(mapping.endCustomerID ?? "(unnamed)") declared in \(country), not restricted",
                            weight: config.declaredUnrestrictedWeight, sources: [mapping.origin]))
                }
            }
            if let resellerID = mapping.resellerID {
                chain = resellers.chain(from: resellerID)
                let customerKnown = mapping.endCustomerCountry != nil
                var best: Evidence? = nil
                var bestDepth = 0
                var bestServes = false
                for (depth, reseller) in chain.enumerated() {
                    let decay = pow(config.chainDecay, Double(depth))
                    let via = depth == 0 ? "" : " (via \(chain[0..<depth].map(\.id).joined(separator: " -> ")))"
                    if let country = reseller.country, jurisdictions.isRestricted(country, at: time) {
                        reach(country)
                        let e = Evidence(
                            kind: "reseller-chain",
                            detail: "\(reseller.id) is in \(country)\(basisText(country))\(via)",
                            weight: config.resellerCountryWeight * decay, sources: [mapping.origin, reseller.origin])
                        if best == nil || e.weight > best!.weight { (best, bestDepth, bestServes) = (e, depth, false) }
                    }
                    let served = jurisdictions.restricted(in: reseller.servesCountries, at: time)
                    if !served.isEmpty && !customerKnown {
                        served.forEach(reach)
                        let e = Evidence(
                            kind: "reseller-chain",
                            detail:
                                "\(reseller.id) serves \(served.map(\.description).joined(separator: ";"))\(via); end customer country unknown",
                            weight: config.resellerServesWeight * decay, sources: [mapping.origin, reseller.origin])
                        if best == nil || e.weight > best!.weight { (best, bestDepth, bestServes) = (e, depth, true) }
                    }
                }
                if let best {
                    // The account's own reseller and those further up are calibrated apart: a
                    // distributor's country says less about one customer than its reseller's.
                    // A distributor that declares it serves a restricted country, above a reseller
                    // that leaves its customer's country unknown, is calibrated apart from one that is
                    // only incorporated there (and serves elsewhere).
                    if bestDepth > 0 { (upstream, upstreamServes) = (evidence.count, bestServes) }
                    evidence.append(best)
                }
            }
        }

        // Shared identity: an account probably run by the same people as a linked account inherits that
        // link in proportion to the probability (one step, or two with the chain's decay). Its own
        // declarations stay evidence beside it: a declaration is what a diverter controls.
        var ringPeers: [String] = []
        var bestShared: (Evidence, [CountryCode])? = nil
        for partner in partners.prefix(24) where partner.account != session.accountID {
            guard let link = mappingLink(provider: session.provider.rawValue, account: partner.account, at: time) else {
                continue
            }
            let decay = partner.via == nil ? 1.0 : config.chainDecay
            let w = min(config.sharedIdentityCap, config.sharedIdentityShare * partner.probability * decay * link.weight)
            guard w > 0.05 else { continue }
            if bestShared == nil || w > bestShared!.0.weight {
                let p = JSONWriter.formatNumber(partner.probability, decimals: 3)
                let detail =
                    partner.via.map {
                        "probably operated like account \($0), which is like account \(partner.account) (\(link.detail)); two steps, probability \(p): \(partner.shared)"
                    }
                    ?? "probably operated by the same people as account \(partner.account) (\(link.detail)), probability \(p): \(partner.shared)"
                let sources =
                    (mappings.mapping(provider: session.provider.rawValue, account: partner.account, at: time).map {
                        [$0.origin]
                    } ?? []) + partner.seenIn
                bestShared = (Evidence(kind: "shared-identity", detail: detail, weight: w, sources: sources), link.countries)
            }
        }
        if let (e, countries) = bestShared {
            countries.forEach(reach)
            evidence.append(e)
        }

        // Ring: accounts onboarded recently under a reseller chain that reaches a restricted jurisdiction,
        // run alike (probable same operator), whatever end customers they declare.
        if restricted, let mapping, let resellerID = mapping.resellerID, let onboarded = mapping.validFrom,
            session.start >= onboarded, session.start - onboarded <= Int64(config.ringRecentDays * 86_400)
        {
            let reaches = chainReach(from: resellerID, at: time)
            if !reaches.countries.isEmpty {
                let chainIDs = Set(chain.map(\.id))
                var peers: [String] = []
                // A peer: probably one operator in the whole population, or a shared set that would be
                // among the accounts of one chain's recent cohort (the likelihood ratio alone: the
                // population's prior of a pair is not the cohort's).
                for partner in partners
                where partner.via == nil
                    && (partner.probability >= config.ringPeerProbability || partner.logRatio >= config.ringPeerLogRatio)
                {
                    guard
                        let m = mappings.mapping(provider: session.provider.rawValue, account: partner.account, at: time),
                        let r = m.resellerID, r == resellerID || chainIDs.contains(r),
                        let from = m.validFrom, abs(from - onboarded) <= Int64(config.ringRecentDays * 86_400)
                    else { continue }
                    if !peers.contains(partner.account) { peers.append(partner.account) }
                }
                if Double(peers.count) >= config.ringMinPeers {
                    ringPeers = peers
                    let w = min(
                        config.ringCap, config.ringWeight * log2(1 + Double(peers.count) / max(1, config.ringMinPeers)))
                    reaches.countries.forEach(reach)
                    let shown = peers.prefix(5).joined(separator: ", ") + (peers.count > 5 ? ", ..." : "")
                    evidence.append(
                        Evidence(
                            kind: "ring",
                            detail:
                                "one of \(peers.count + 1) accounts onboarded within \(Int(config.ringRecentDays)) days under \(resellerID), whose chain reaches \(reaches.countries.map(\.description).joined(separator: ";")) (\(reaches.via)), run alike: \(shown); this one onboarded \(Timestamp.format(onboarded))",
                            weight: w, sources: [mapping.origin]))
                }
            }
        }

        // Structuring: this account is one of many with unknown end customers under one reseller whose
        // restricted use adds up.
        if restricted, let aggregate, let mapping, mapping.endCustomerCountry == nil, let resellerID = mapping.resellerID {
            var peers = aggregate.peers(of: resellerID)
            if peers.byAccount[session.accountID] == nil { peers.accounts += 1 }
            peers.hours += hours
            let ownTotal = (peers.byAccount[session.accountID] ?? 0) + hours
            if peers.accounts >= config.structuringMinAccounts && peers.hours >= config.structuringMinHours
                && ownTotal <= peers.hours / 3
            {
                let w = min(
                    config.structuringCap,
                    config.structuringWeight * log2(1 + Double(peers.accounts) / Double(config.structuringMinAccounts)))
                evidence.append(
                    Evidence(
                        kind: "structuring",
                        detail:
                            "one of \(peers.accounts) accounts with unknown end customers under \(resellerID), together \(JSONWriter.formatNumber(peers.hours, decimals: 1)) restricted accelerator-hours (this account \(JSONWriter.formatNumber(ownTotal, decimals: 1)))",
                        weight: w, sources: [mapping.origin]))
            }
        }

        if let activity, activity.locatedCalls > 0 {
            let (k, countries) = activity.restrictedCalls(jurisdictionView, at: time)
            let n = activity.locatedCalls
            var weight = networkWeight(restricted: k, located: n)
            var trip = ""
            if weight > 0, let window = activity.restrictedWindow(jurisdictionView, at: time) {
                let margin = Int64(config.tripMarginDays * 86_400)
                let length = window.last - window.first
                let steady = min(1, Double(window.days) / max(1, config.steadyDays))
                if Double(length) <= config.tripDays * 86_400
                    && (activity.firstSeen <= window.first - margin || activity.lastSeen >= window.last + margin)
                {
                    weight = min(weight, config.tripWeightCap)
                    trip = "; all within \(JSONWriter.formatNumber(Double(length) / 86_400, decimals: 1)) day(s) (\(Timestamp.format(window.first)) to \(Timestamp.format(window.last))) of an account seen elsewhere before or after: a trip explains them as well"
                } else if steady < 1 {
                    weight = min(weight, steady * config.networkWeightCap)
                    trip = "; on \(window.days) day(s) so far (full weight from \(Int(config.steadyDays.rounded(.up))))"
                }
            }
            if weight > 0, let declared = declaredElsewhere, n >= config.declaredSupportMinimumCalls {
                let own = activity.calls(from: declared.country)
                let share = Double(own) / Double(n)
                if share < config.declaredSupportShare {
                    evidence[declared.index].weight *= config.declaredUnsupportedFactor
                    evidence[declared.index].detail +=
                        "; \(own) of \(n) located calls from \(declared.country) (share \(JSONWriter.formatNumber(share, decimals: 3)), below \(JSONWriter.formatNumber(config.declaredSupportShare, decimals: 2))): not borne out by the account's own calls, weighs \(JSONWriter.formatNumber(config.declaredUnsupportedFactor, decimals: 2)) of its weight"
                }
            }
            if k > 0 || weight > 0.5 {
                if weight > 0 { countries.prefix(3).forEach { reach($0.0) } }
                let list = countries.prefix(3).map { "\($0.0) \($0.1)" }.joined(separator: ", ")
                evidence.append(
                    Evidence(
                        kind: "network",
                        detail:
                            "\(k) of \(n) located calls from restricted countries (\(list.isEmpty ? "none" : list)); share \(JSONWriter.formatNumber(Double(k) / Double(n), decimals: 3))\(trip)",
                        weight: weight))
            }
        }

        // Time: weighs only beside a named jurisdiction, so it is estimated only where an alert is
        // possible (restricted use, a jurisdiction reached): it is the costliest evidence to compute.
        // (An account whose calls all came from its instances' roles has no first or last call.)
        if restricted, !reached.isEmpty, let activity, activity.lastSeen >= activity.firstSeen,
            let tz = TimeZoneEstimate.estimate(hourOfWeek: activity.hourOfWeek, span: activity.lastSeen - activity.firstSeen)
        {
            let sign = tz.offsetHours >= 0 ? "+" : "-"
            let matching = reached.filter { Self.utcOffsets[$0.description]?.contains(tz.offsetHours) == true }
            let weight = !matching.isEmpty && tz.confidence >= config.timeZoneConfidence ? config.timeZoneWeight : 0
            var detail =
                "activity fits UTC\(sign)\(abs(tz.offsetHours)) (posterior \(JSONWriter.formatNumber(tz.confidence, decimals: 2)) over 27 offsets, \(tz.activeHours) active hours)"
            if let first = matching.first { detail += ", the time of \(first)" }
            evidence.append(Evidence(kind: "time", detail: detail, weight: weight))
        }

        if restricted, let volume, hours > 0 {
            if let e = volumeEvidence(session, hours: hours, count: count, mapping: mapping, activity: activity, volume: volume) {
                evidence.append(e)
            }
        }

        // Holidays: whether the account rests on the PRC's public holidays and works its make-up weekend
        // days; weighs only beside a link to China.
        if restricted, !reached.isEmpty, let activity, activity.lastSeen >= activity.firstSeen {
            let calendar = HolidayCalendar.prc
            let days = calendar.localDay(activity.firstSeen)...calendar.localDay(activity.lastSeen)
            if let fit = HolidayFit.estimate(activeDays: activity.activeDays, days: days, calendar: calendar, dip: config.holidayDip) {
                let china = reached.contains(Self.china)
                let weight = china && fit.logLikelihoodRatio >= config.holidayMinimumRatio ? config.holidayWeight : 0
                let percent = JSONWriter.formatNumber(100 * fit.workingRate, decimals: 0)
                evidence.append(
                    Evidence(
                        kind: "holiday",
                        detail:
                            "active on \(fit.activeHolidays) of \(fit.holidays) PRC public holiday(s) on working days and \(fit.activeMakeupDays) of \(fit.makeupDays) make-up weekend day(s), against \(percent)% of working days; log-likelihood ratio \(JSONWriter.formatNumber(fit.logLikelihoodRatio, decimals: 2)) for the PRC calendar (posterior \(JSONWriter.formatNumber(fit.confidence, decimals: 2)))",
                        weight: weight))
            }
        }

        // Each family's weight times its calibration factor, fitted on tuning populations
        // (Scripts/fit-weights); 1 leaves the weight as the model gives it.
        let families = evidence.indices.map { i in
            evidence[i].kind == "declared-country"
                ? (evidence[i].weight < 0 ? "declared-unrestricted" : "declared-restricted")
                : i == upstream ? (upstreamServes ? "reseller-upstream-serves" : "reseller-upstream") : evidence[i].kind
        }
        for i in evidence.indices where evidence[i].weight != 0 {
            if let f = config.familyFactors[families[i]], f != 1 { evidence[i].weight *= f }
        }
        let logOdds = config.priorLogOdds + evidence.reduce(0) { $0 + $1.weight }
        let score = 1 / (1 + exp(-logOdds))
        // A time zone, a holiday calendar, volume or structuring names no jurisdiction: none makes a link by itself.
        let linked = evidence.contains { $0.weight > 0 && !Self.boosters.contains($0.kind) }
        return Assessment(
            session: session, spec: spec, restrictedConsumption: restricted, mapping: mapping, chain: chain,
            evidence: evidence, jurisdictions: reached, score: score, acceleratorCount: count,
            acceleratorHours: hours, alerts: restricted && linked && !reached.isEmpty && score >= config.minScore,
            families: families, ringPeers: ringPeers)
    }

    /// Volume: the session against the account's own recent sessions (or its peer group's), and a new
    /// account whose first session goes straight to restricted capacity. A booster: names no jurisdiction.
    func volumeEvidence(
        _ session: Session, hours: Double, count: Double, mapping: MappingRow?, activity: AccountActivity?, volume: VolumeBook
    ) -> Evidence? {
        func number(_ x: Double) -> String { JSONWriter.formatNumber(x, decimals: 1) }
        var parts: [String] = []
        var weight = 0.0
        let own = volume.account(session.accountID)
        let group = VolumeBook.group(provider: session.provider.rawValue, reseller: mapping?.resellerID)
        if let own, let r = own.robustZ(hours, minimum: config.volumeMinimumSessions) {
            if r.z >= config.volumeZ {
                weight += config.volumeWeight
                parts.append(
                    "\(number(hours)) accelerator-hours against a median of \(number(r.median)) (MAD \(number(r.mad)), EWMA \(number(own.ewma))) over its last \(own.recent.count) sessions: robust z \(number(r.z))")
            }
        } else if let peers = volume.group(group), let r = peers.robustZ(hours, minimum: config.volumePeerMinimumSessions),
            r.z >= config.volumeZ
        {
            weight += config.volumeWeight
            parts.append(
                "\(number(hours)) accelerator-hours against a median of \(number(r.median)) (MAD \(number(r.mad))) over the last \(peers.recent.count) sessions of its peer group \(group): robust z \(number(r.z))")
        }
        if (own?.sessions ?? 0) == 0 && count >= config.newAccountMinimumAccelerators {
            let window = Int64(config.newAccountDays * 86_400)
            let firstSeen = min(activity?.firstSeen ?? .max, session.start)
            if let onboarded = mapping?.validFrom, onboarded <= session.start, session.start - onboarded <= window {
                weight += config.newAccountWeight
                parts.append(
                    "onboarded \(Timestamp.format(onboarded)) (mapping), its first session \(number(Double(session.start - onboarded) / 86_400)) day(s) later on \(number(count)) restricted accelerators")
            } else if volume.streamStart != .max, firstSeen - volume.streamStart >= window, session.start - firstSeen <= window {
                weight += config.newAccountWeight
                parts.append(
                    "new account: first seen \(Timestamp.format(firstSeen)), \(number(Double(firstSeen - volume.streamStart) / 86_400)) day(s) into the stream; its first session \(number(Double(session.start - firstSeen) / 86_400)) day(s) later on \(number(count)) restricted accelerators")
            }
        }
        guard !parts.isEmpty else { return nil }
        return Evidence(kind: "volume", detail: parts.joined(separator: "; "), weight: weight)
    }

    /// The log-likelihood ratio of `restricted` of `located` calls under the linked and benign Beta-Binomial
    /// models. The benign model is a mixture: most unlinked accounts call from restricted countries
    /// almost never (travel, VPN exits), a share `benignOfficeWeight` steadily a little (an office
    /// there); without the second, a few unlucky days of such an account look like a link.
    public func networkWeight(restricted k: Int, located n: Int) -> Double {
        func lnBeta(_ a: Double, _ b: Double) -> Double { lgamma(a) + lgamma(b) - lgamma(a + b) }
        let kk = Double(k)
        let rest = Double(n - k)
        func marginal(_ a: Double, _ b: Double) -> Double { lnBeta(kk + a, rest + b) - lnBeta(a, b) }
        let linked = marginal(config.linkedShareAlpha, config.linkedShareBeta)
        let rare = marginal(config.benignShareAlpha, config.benignShareBeta)
        var benign = rare
        if config.benignOfficeWeight > 0 {
            let office = marginal(config.benignOfficeAlpha, config.benignOfficeBeta)
            let top = max(rare, office)
            benign = top + log((1 - config.benignOfficeWeight) * exp(rare - top) + config.benignOfficeWeight * exp(office - top))
        }
        return min(config.networkWeightCap, max(config.networkWeightFloor, linked - benign))
    }

    private func basisText(_ code: CountryCode) -> String {
        guard let basis = jurisdictions.basis(code) else { return "" }
        return " (\(basis))"
    }

    /// The alert for an assessment that alerts.
    public func alert(for a: Assessment) -> Alert {
        let severity: String
        if a.score >= config.highScore && a.acceleratorHours >= config.highAcceleratorHours {
            severity = "high"
        } else if a.score >= config.mediumScore {
            severity = "medium"
        } else {
            severity = "low"
        }
        let s = a.session
        let alertID = "a-" + StableHash.hex(StableHash.hash("alert|" + s.id))
        return Alert(
            id: alertID, score: (a.score * 10_000).rounded() / 10_000, severity: severity, provider: s.provider,
            accountID: s.accountID, resellerID: a.mapping?.resellerID, endCustomerID: a.mapping?.endCustomerID,
            jurisdictions: a.jurisdictions.map(\.description),
            session: AlertSession(
                id: s.id, start: s.start, end: s.end, open: s.open, instanceTypes: s.instanceType.map { [$0] } ?? [],
                accelerator: a.spec?.accelerator.model ?? "unknown", acceleratorCount: a.acceleratorCount,
                acceleratorHours: a.acceleratorHours, regions: s.regions, resourceIDs: [s.resourceID]),
            evidence: a.evidence, eventOrigins: s.events.map { $0.origin.description })
    }
}
