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

    // The events are read where they lie, field by field: a closure over each event (`reduce`,
    // `contains`) copied it, nine strings retained and released, at every assessment.

    /// Instance-hours billed by the usage records of the session (0 without billing records).
    public var billedInstanceHours: Double {
        var total = 0.0
        for i in events.indices where events[i].action == .usage { total += events[i].usageHours }
        return total
    }

    /// Whether audit-log lifecycle events (launch, start) make the session, as opposed to billing alone.
    public var hasLifecycle: Bool {
        for i in events.indices where events[i].action == .launch || events[i].action == .start { return true }
        return false
    }

    /// Whether both an audit log and a billing export describe the session (fusion).
    public var isFused: Bool {
        guard hasLifecycle else { return false }
        for i in events.indices where events[i].action == .usage { return true }
        return false
    }

    /// Instance-hours of the session: billing's figure for billing-only sessions (a line may sum
    /// several instances), and for audit-log sessions the larger of the run's length and the billed hours.
    public var instanceHours: Double {
        let billed = billedInstanceHours
        guard hasLifecycle else { return billed > 0 ? billed : hours * Double(instanceCount) }
        return max(hours * Double(instanceCount), billed)
    }
}
