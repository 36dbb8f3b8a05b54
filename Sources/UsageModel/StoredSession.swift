/// An assessed session as the store keeps it: its row, the mapping row that linked it, and the alert
/// raised on it, if any. Detection builds it (`Detector.Decision.stored`); the store writes it
/// without knowing how it was assessed.
public struct StoredSession: Sendable, Equatable {
    public var id: String
    public var provider: CloudProvider
    public var accountID: String
    public var resourceID: String
    public var instanceType: String?
    /// The accelerator model of the instance type, when the catalogue knows it.
    public var accelerator: String?
    public var acceleratorCount: Double
    public var acceleratorHours: Double
    public var start: EpochSeconds
    public var end: EpochSeconds
    public var open: Bool
    public var regions: [String]
    /// Whether the session consumes accelerators restricted at its start.
    public var restricted: Bool
    public var score: Double
    /// The restricted jurisdictions the assessment reached.
    public var jurisdictions: [CountryCode]
    /// The reseller chain above the account, nearest first (ids).
    public var chain: [String]
    /// Ids this session had while it ran and was alerted: the store's rows under them are this one's.
    public var supersedes: [String]
    /// The mapping row valid at the session's start, with the reseller chain described.
    public var mapping: Mapping?
    public var alert: Alert?

    /// A mapping row as the store keeps it beside the alerts it linked.
    public struct Mapping: Sendable, Equatable {
        public var origin: String
        public var provider: String
        public var accountID: String
        public var resellerID: String?
        public var endCustomerID: String?
        public var endCustomerCountry: CountryCode?
        public var validFrom: EpochSeconds?
        public var validTo: EpochSeconds?
        /// The chain as read: `RS-1 (HK, serves CN) at resellers.csv:3 -> …`.
        public var chain: String

        public init(
            origin: String, provider: String, accountID: String, resellerID: String?, endCustomerID: String?,
            endCustomerCountry: CountryCode?, validFrom: EpochSeconds?, validTo: EpochSeconds?, chain: String
        ) {
            self.origin = origin
            self.provider = provider
            self.accountID = accountID
            self.resellerID = resellerID
            self.endCustomerID = endCustomerID
            self.endCustomerCountry = endCustomerCountry
            self.validFrom = validFrom
            self.validTo = validTo
            self.chain = chain
        }
    }

    public init(
        id: String, provider: CloudProvider, accountID: String, resourceID: String, instanceType: String?,
        accelerator: String?, acceleratorCount: Double, acceleratorHours: Double, start: EpochSeconds,
        end: EpochSeconds, open: Bool, regions: [String], restricted: Bool, score: Double,
        jurisdictions: [CountryCode], chain: [String], supersedes: [String] = [], mapping: Mapping? = nil,
        alert: Alert? = nil
    ) {
        self.id = id
        self.provider = provider
        self.accountID = accountID
        self.resourceID = resourceID
        self.instanceType = instanceType
        self.accelerator = accelerator
        self.acceleratorCount = acceleratorCount
        self.acceleratorHours = acceleratorHours
        self.start = start
        self.end = end
        self.open = open
        self.regions = regions
        self.restricted = restricted
        self.score = score
        self.jurisdictions = jurisdictions
        self.chain = chain
        self.supersedes = supersedes
        self.mapping = mapping
        self.alert = alert
    }
}
