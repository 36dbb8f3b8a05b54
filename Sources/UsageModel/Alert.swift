/// chiptrail's version, as `--version` prints it and OCSF findings name it.
public enum ChiptrailVersion {
    public static let current = "0.1.0"
}

/// One contribution to an alert's score.
public struct Evidence: Sendable, Hashable, Codable {
    /// A family name: `declared-country`, `reseller-chain`, `network`, `catalog`, ….
    public var kind: String
    /// A human sentence: `RS-HK-001 serves CN`.
    public var detail: String
    /// The log-likelihood ratio this contribution added to the score's log-odds.
    public var weight: Double
    /// Where the evidence came from (`mappings.csv:3`, an event's origin); may be empty.
    public var sources: [String]

    public init(kind: String, detail: String, weight: Double, sources: [String] = []) {
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
    public var severity: String
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
        id: String, score: Double, severity: String, provider: CloudProvider, accountID: String, resellerID: String?,
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
