/// chiptrail's version, as `--version` prints it and OCSF findings name it.
public enum ChiptrailVersion {
    public static let current = "0.1.0"
}

/// What an evidence speaks of: its name in alerts, the store and the evidence log (the raw value).
public enum EvidenceKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The session's instance type and accelerators, and whether they are restricted (weight 0).
    case catalog
    /// A session known from billing only, or confirmed by it (weight 0).
    case billing
    case auditAndBilling = "audit+billing"
    /// The mapping file's end customer and its country.
    case declaredCountry = "declared-country"
    /// The reseller chain above the account.
    case resellerChain = "reseller-chain"
    /// Identifiers the account shares with accounts linked to a restricted jurisdiction.
    case sharedIdentity = "shared-identity"
    /// Accounts under one reseller that act as one.
    case ring
    /// Many accounts under one reseller each kept small.
    case structuring
    /// Where the account's calls come from.
    case network
    /// How many of the account's calls come through anonymising networks (an IP-intelligence feed).
    case anonymousNetwork = "anonymous-network"
    /// The working hours' time zone.
    case time
    /// Work through a restricted country's public holidays.
    case holiday
    /// Accelerator use against the account's own history.
    case volume
    /// A remembered session assessed again when its account (or ring) alerted.
    case lookback
    /// A session of an account that had alerted, whose own evidence still names a restricted jurisdiction.
    case carried
}

/// How urgent an alert is: by score and accelerator-hours (``DetectionConfig``).
public enum AlertSeverity: String, Sendable, Hashable, Codable, CaseIterable {
    case low, medium, high
}

/// One contribution to an alert's score.
public struct Evidence: Sendable, Hashable, Codable {
    /// The family it comes from: `declared-country`, `reseller-chain`, `network`, `catalog`, ….
    public var kind: EvidenceKind
    /// A human sentence: `RS-HK-001 serves CN`.
    public var detail: String
    /// The log-likelihood ratio this contribution added to the score's log-odds.
    public var weight: Double
    /// Where the evidence came from (`mappings.csv:3`, an event's origin); may be empty.
    public var sources: [String]

    public init(kind: EvidenceKind, detail: String, weight: Double, sources: [String] = []) {
        self.kind = kind
        self.detail = detail
        self.weight = weight
        self.sources = sources
    }
}

/// The session an alert is about, as the alert prints it.
public struct AlertSession: Sendable, Hashable, Codable {
    public var id: String
    public var start: EpochSeconds
    public var end: EpochSeconds
    public var open: Bool
    public var instanceTypes: [String]
    public var accelerator: String
    public var acceleratorCount: Double
    public var acceleratorHours: Double
    public var regions: [String]
    public var resourceIDs: [String]

    public init(
        id: String, start: EpochSeconds, end: EpochSeconds, open: Bool, instanceTypes: [String], accelerator: String,
        acceleratorCount: Double, acceleratorHours: Double, regions: [String], resourceIDs: [String]
    ) {
        self.id = id
        self.start = start
        self.end = end
        self.open = open
        self.instanceTypes = instanceTypes
        self.accelerator = accelerator
        self.acceleratorCount = acceleratorCount
        self.acceleratorHours = acceleratorHours
        self.regions = regions
        self.resourceIDs = resourceIDs
    }
}

/// A scored finding: restricted accelerators consumed by an account linked to a restricted jurisdiction.
public struct Alert: Sendable, Hashable, Codable {
    public var id: String
    public var score: Double
    public var severity: AlertSeverity
    public var provider: CloudProvider
    public var accountID: String
    public var resellerID: String?
    public var endCustomerID: String?
    public var jurisdictions: [String]
    public var session: AlertSession
    public var evidence: [Evidence]
    /// The events that make the session, as `path:line` references.
    public var eventOrigins: [String]
    /// When the store committed the alert (epoch seconds): the OCSF finding's time, so that the store
    /// re-emits the finding exactly as it was sent. nil before (and without) a store.
    public var raisedAt: EpochSeconds? = nil

    public init(
        id: String, score: Double, severity: AlertSeverity, provider: CloudProvider, accountID: String,
        resellerID: String?,
        endCustomerID: String?, jurisdictions: [String], session: AlertSession, evidence: [Evidence],
        eventOrigins: [String] = []
    ) {
        self.id = id
        self.score = score
        self.severity = severity
        self.provider = provider
        self.accountID = accountID
        self.resellerID = resellerID
        self.endCustomerID = endCustomerID
        self.jurisdictions = jurisdictions
        self.session = session
        self.evidence = evidence
        self.eventOrigins = eventOrigins
    }
}
