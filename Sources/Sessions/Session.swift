public import UsageModel

/// One continuous run of one compute resource of one account.
public struct Session: Sendable, Hashable, Codable {
    public var id: String
    public var provider: CloudProvider
    public var accountID: String
    public var resourceID: String
    /// The instance type, when any event named it.
    public var instanceType: String?
    /// Instances of `instanceType` (SageMaker `InstanceCount`), 1 otherwise.
    public var instanceCount: Int
    public var start: EpochSeconds
    /// The stop or termination; for an open session, the last time the input shows it running.
    public var end: EpochSeconds
    public var open: Bool
    public var regions: [String]
    /// The lifecycle events that make the session, in time order.
    public var events: [UsageEvent]

    public init(
        id: String, provider: CloudProvider, accountID: String, resourceID: String, instanceType: String?,
        instanceCount: Int, start: EpochSeconds, end: EpochSeconds, open: Bool, regions: [String], events: [UsageEvent]
    ) {
        self.id = id
        self.provider = provider
        self.accountID = accountID
        self.resourceID = resourceID
        self.instanceType = instanceType
        self.instanceCount = instanceCount
        self.start = start
        self.end = end
        self.open = open
        self.regions = regions
        self.events = events
    }

    public var hours: Double { Double(max(0, end - start)) / 3600 }

    /// Instance-hours billed by the usage records of the session (0 without billing records).
    public var billedInstanceHours: Double {
        events.reduce(0) { $0 + ($1.action == .usage ? $1.usageHours : 0) }
    }

    /// Whether audit-log lifecycle events (launch, start) make the session, as opposed to billing alone.
    public var hasLifecycle: Bool { events.contains { $0.action == .launch || $0.action == .start } }

    /// Whether both an audit log and a billing export describe the session (fusion).
    public var isFused: Bool { hasLifecycle && events.contains { $0.action == .usage } }

    /// Instance-hours of the session: billing's figure for billing-only sessions (a line may sum
    /// several instances), and for audit-log sessions the larger of the run's length and the billed hours.
    public var instanceHours: Double {
        let billed = billedInstanceHours
        guard hasLifecycle else { return billed > 0 ? billed : hours * Double(instanceCount) }
        return max(hours * Double(instanceCount), billed)
    }
}
