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
        /// Pooled (`shared_identity_pooled`): `via` is probably run by the same people as `account`
        /// (probability `viaProbability`), and what the assessed account shares with either counts
        /// towards both: one operator's accounts, not one account, are what it is compared with.
        public var pooled: Bool
        public var viaProbability: Double

        public init(
            account: String, probability: Double, shared: String, via: String? = nil, seenIn: [String] = [],
            logRatio: Double = 0, pooled: Bool = false, viaProbability: Double = 0
        ) {
            self.account = account
            self.probability = probability
            self.logRatio = logRatio
            self.shared = shared
            self.via = via
            self.seenIn = seenIn
            self.pooled = pooled
            self.viaProbability = viaProbability
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
        /// Whether it has all an alert needs but the score: restricted use, a restricted jurisdiction
        /// named by evidence that can name one (carry: ``DetectionConfig/lookbackCarry``).
        public var linked = false
        /// Ids this session had while it ran and was alerted (an earlier event arrived since): the
        /// store's rows under them are this session's.
        public var supersedes: [String] = []
        /// The calibration family of each evidence (``DetectionConfig/families``), in order.
        public var families: [String] = []
        /// The accounts the ring evidence counted as this one's peers (in the order found): when this
        /// session alerts, their earlier sessions are looked at again, as the account's own are.
        public var ringPeers: [String] = []
        /// The reseller's accounts the structuring evidence counted as calling from restricted countries,
        /// when that reading named a jurisdiction: their earlier sessions are looked at again when this
        /// one alerts.
        public var structuringPeers: [String] = []
        /// The network share's counts (calls from restricted countries, located calls left in the share), when
        /// the account has located calls: what the network evidence's log-likelihood ratio was taken of, with or
        /// without an evidence item (`CHIPTRAIL_EVIDENCE_LOG` writes it, to fit the benign mixture on).
        public var networkShare: (restricted: Int, located: Int)? = nil
        /// The anonymising share's counts (located calls through anonymising networks, or addresses many
        /// accounts share beyond the typical account's; located calls), beside at least one call from a
        /// restricted country: what the anonymising-network evidence's log-likelihood ratio was taken of, with
        /// or without an evidence item (`CHIPTRAIL_EVIDENCE_LOG` writes it, to fit its models on).
        public var anonymousShare: (hidden: Int, located: Int)? = nil
    }

    /// What every evidence family reads of the session being assessed.
    struct AssessmentContext {
        let session: Session
        /// The session's start: mappings, jurisdictions and reseller chains are read as of then.
        let time: EpochSeconds
        let spec: InstanceSpec?
        let count: Double
        let hours: Double
        /// Whether the session consumes accelerators restricted at its start (the gate of every alert).
        let restricted: Bool
        let mapping: MappingRow?
        let activity: AccountActivity?
        /// The share of its located calls the population's median account makes through addresses many
        /// accounts share (``AccountActivity/sharedAsDirect(where:beyond:)``).
        var sharedNorm: Double = 0
    }

    /// An assessment being put together: the evidence in the order the families find it, the restricted
    /// jurisdictions it reaches, and what one family leaves for another or for the policy.
    struct AssessmentDraft {
        var evidence: [Evidence] = []
        var reached: [CountryCode] = []
        /// The evidence of an end customer declared in an unrestricted country, and that country (the
        /// network family weighs it down when the account's calls do not bear it out).
        var declaredElsewhere: (index: Int, country: CountryCode)? = nil
        var chain: [Reseller] = []
        /// The index of reseller-chain evidence from a reseller above the account's own, if any, and
        /// whether it is a reseller that serves a restricted country (not one incorporated there).
        var upstream: Int? = nil
        var upstreamServes = false
        /// The index of reseller-chain evidence from the account's own reseller's country, if it is the
        /// chain's evidence (``resellerSupportEvidence(_:into:)`` may weigh it down).
        var ownReseller: Int? = nil
        /// The accounts the ring evidence counted as peers.
        var ringPeers: [String] = []
        /// Structuring names the restricted countries the account's own calls come from: its reseller's
        /// undeclared accounts calling from restricted countries (``structuringPeers``) stand out.
        var structuringNames = false
        var structuringPeers: [String] = []
        /// The time family names the restricted country whose clock the account keeps and whose calls it
        /// made (``restrictedClockReading(_:_:)``).
        var clockNames = false
        /// The index of the working week's evidence, which names the country whose week it keeps
        /// (``weekEvidence(_:into:)``).
        var week: Int? = nil
        /// A declaration elsewhere the account's located calls do not bear out (calls from the
        /// declared country, located calls), beside network evidence: weighed after the holiday family.
        var unsupportedDeclaration: (own: Int, located: Int)? = nil
        /// The declared country's calls as the network share counts them (of ``networkShare``'s located calls:
        /// calls through anonymising networks elsewhere and an exit country's left out), where one is declared.
        var declaredCalls: Int? = nil
        /// Where nothing is declared of the end customer and the account's own reseller is in a restricted
        /// country: the unrestricted country most of its located calls came from, and how many, as the
        /// network share counts them (``resellerPlacedEvidence(_:into:)``).
        var placedCalls: (country: CountryCode, calls: Int)? = nil
        /// The holiday fit's log-likelihood ratio for the PRC calendar, where it was estimated.
        var holidayRatio: Double? = nil
        /// The network share's counts (``Assessment/networkShare``).
        var networkShare: (restricted: Int, located: Int)? = nil
        /// The anonymising share's counts (``Assessment/anonymousShare``).
        var anonymousShare: (hidden: Int, located: Int)? = nil

        mutating func reach(_ code: CountryCode) { if !reached.contains(code) { reached.append(code) } }
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
    static let boosters: Set<EvidenceKind> = [.catalog, .time, .holiday, .volume, .structuring]
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
                ? MappingLink(weight: config.declaredCountryWeight, countries: [country], reseller: nil, serves: false)
                : nil
        }
        guard let resellerID = mapping.resellerID else { return nil }
        var best: MappingLink? = nil
        for (depth, reseller) in resellers.chain(from: resellerID).enumerated() {
            let decay = pow(config.chainDecay, Double(depth))
            if let country = reseller.country, jurisdictions.isRestricted(country, at: time) {
                let w = config.resellerCountryWeight * decay
                if best == nil || w > best!.weight {
                    best = MappingLink(weight: w, countries: [country], reseller: reseller, serves: false)
                }
            }
            let served = jurisdictions.restricted(in: reseller.servesCountries, at: time)
            if !served.isEmpty {
                let w = config.resellerServesWeight * decay
                if best == nil || w > best!.weight {
                    best = MappingLink(weight: w, countries: served, reseller: reseller, serves: true)
                }
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
            detail =
                link.serves
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
        return (
            c.restricted, c.hours,
            mappings.mapping(provider: session.provider.rawValue, account: session.accountID, at: session.start)
        )
    }

    /// The catalogue's entry for the session's type, its accelerators, accelerator-hours, and whether
    /// they are restricted at its start.
    private func consumption(of session: Session) -> (
        spec: InstanceSpec?, count: Double, hours: Double, restricted: Bool
    ) {
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
    /// - Parameter cohort: for an account without an audit trail, the ring of its reseller's recent
    ///   cohort (``cohortRing(of:accounts:hasTrail:restrictedUse:partners:)``).
    /// - Parameter sharedNorm: the share of its located calls the population's median account makes
    ///   through addresses many accounts share (`shared_exit_accounts`): an account's calls through them
    ///   up to that share hide nothing. 0 (the default, a test's): every such call may hide; the pipeline
    ///   passes 1 until the median is known.
    public func assess(
        _ session: Session, activity: AccountActivity?, partners: [IdentityPartner],
        aggregate: ResellerAggregate? = nil, volume: VolumeBook? = nil, cohort: CohortRing? = nil,
        sharedNorm: Double = 0
    ) -> Assessment {
        let (spec, count, hours, restricted) = consumption(of: session)
        let mapping = mappings.mapping(
            provider: session.provider.rawValue, account: session.accountID, at: session.start)
        let context = AssessmentContext(
            session: session, time: session.start, spec: spec, count: count, hours: hours, restricted: restricted,
            mapping: mapping, activity: activity, sharedNorm: sharedNorm)
        var draft = AssessmentDraft()
        // The families in the order their evidence is listed; each in its own file (Detector+….swift).
        catalogEvidence(context, into: &draft)
        sourcesEvidence(context, into: &draft)
        mappingEvidence(context, into: &draft)
        sharedIdentityEvidence(context, partners: partners, into: &draft)
        ringEvidence(context, partners: partners, into: &draft)
        if let cohort { cohortRingEvidence(context, cohort, into: &draft) }
        structuringEvidence(context, aggregate: aggregate, into: &draft)
        networkEvidence(context, into: &draft)
        timeZoneEvidence(context, into: &draft)
        if let volume { volumeEvidence(context, volume: volume, into: &draft) }
        holidayEvidence(context, into: &draft)
        weekEvidence(context, into: &draft)
        declaredSupportEvidence(context, into: &draft)
        resellerSupportEvidence(context, into: &draft)
        resellerPlacedEvidence(context, into: &draft)
        return decide(context, draft)
    }

    /// The alert policy: each family's weight times its calibration factor, the score from the summed
    /// log-likelihood ratios, and whether it alerts (restricted use, a jurisdiction named by evidence
    /// that can name one, the score at the threshold).
    func decide(_ c: AssessmentContext, _ draft: AssessmentDraft) -> Assessment {
        var evidence = draft.evidence
        let (upstream, upstreamServes) = (draft.upstream, draft.upstreamServes)
        // Each family's weight times its calibration factor, fitted on tuning populations
        // (Scripts/fit-weights); 1 leaves the weight as the model gives it.
        let families = evidence.indices.map { i in
            evidence[i].kind == .declaredCountry
                ? (i == draft.declaredElsewhere?.index || evidence[i].weight < 0
                    ? "declared-unrestricted" : "declared-restricted")
                : i == draft.week
                    ? "week"
                    : evidence[i].kind == .time && draft.clockNames
                        ? "clock"
                        : i == upstream
                            ? (upstreamServes ? "reseller-upstream-serves" : "reseller-upstream")
                            : evidence[i].kind.rawValue
        }
        for i in evidence.indices where evidence[i].weight != 0 {
            if let f = config.familyFactors[families[i]], f != 1 { evidence[i].weight *= f }
        }
        let logOdds = config.priorLogOdds + evidence.reduce(0) { $0 + $1.weight }
        let score = 1 / (1 + exp(-logOdds))
        // A time zone, a holiday calendar, volume or structuring names no jurisdiction: none makes a link by itself.
        // Structuring names one when its reading of the reseller's accounts calling from restricted
        // countries is what counts, and this account's own calls come from one too.
        let linked =
            evidence.contains {
                $0.weight > 0
                    && (!Self.boosters.contains($0.kind) || ($0.kind == .structuring && draft.structuringNames)
                        || ($0.kind == .time && draft.clockNames))
            } || draft.week.map { evidence[$0].weight > 0 } == true
        return Assessment(
            session: c.session, spec: c.spec, restrictedConsumption: c.restricted, mapping: c.mapping,
            chain: draft.chain, evidence: evidence, jurisdictions: draft.reached, score: score,
            acceleratorCount: c.count,
            acceleratorHours: c.hours,
            alerts: c.restricted && linked && !draft.reached.isEmpty && score >= config.minScore,
            linked: c.restricted && linked && !draft.reached.isEmpty,
            families: families, ringPeers: draft.ringPeers,
            structuringPeers: draft.structuringNames ? draft.structuringPeers : [], networkShare: draft.networkShare,
            anonymousShare: draft.anonymousShare)
    }

    /// The log-likelihood ratio of `restricted` of `located` calls under the linked and benign Beta-Binomial
    /// models. The benign model is a mixture: most unlinked accounts call from restricted countries
    /// almost never (travel, VPN exits), a share `benignOfficeWeight` steadily a little (an office
    /// there); without the second, a few unlucky days of such an account look like a link.
    public func networkWeight(restricted k: Int, located n: Int) -> Double {
        let llr = Self.betaBinomialRatio(
            k, of: n, linked: (config.linkedShareAlpha, config.linkedShareBeta),
            benign: (config.benignShareAlpha, config.benignShareBeta),
            otherBenign: (config.benignOfficeAlpha, config.benignOfficeBeta), weight: config.benignOfficeWeight)
        return min(config.networkWeightCap, max(config.networkWeightFloor, llr))
    }

    /// The log-likelihood ratio of `k` of `n` under a linked Beta-Binomial model against a benign mixture:
    /// `benign` with probability 1 − `weight`, `otherBenign` with `weight` (summed in log space).
    static func betaBinomialRatio(
        _ k: Int, of n: Int, linked: (Double, Double), benign: (Double, Double), otherBenign: (Double, Double),
        weight: Double
    ) -> Double {
        func lnBeta(_ a: Double, _ b: Double) -> Double { lgamma(a) + lgamma(b) - lgamma(a + b) }
        let kk = Double(k)
        let rest = Double(n - k)
        func marginal(_ p: (Double, Double)) -> Double { lnBeta(kk + p.0, rest + p.1) - lnBeta(p.0, p.1) }
        let rare = marginal(benign)
        var mixture = rare
        if weight > 0 {
            let other = marginal(otherBenign)
            let top = max(rare, other)
            mixture = top + log((1 - weight) * exp(rare - top) + weight * exp(other - top))
        }
        return marginal(linked) - mixture
    }

    func basisText(_ code: CountryCode) -> String {
        guard let basis = jurisdictions.basis(code) else { return "" }
        return " (\(basis))"
    }

    /// The alert for an assessment that alerts.
    public func alert(for a: Assessment) -> Alert {
        let severity: AlertSeverity
        if a.score >= config.highScore && a.acceleratorHours >= config.highAcceleratorHours {
            severity = .high
        } else if a.score >= config.mediumScore {
            severity = .medium
        } else {
            severity = .low
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
