public import UsageModel

/// One continuous run of one compute resource of one account.
public struct Session: Sendable, Hashable {
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

    public var hours: Double { Double(max(0, end - start)) / 3600 }
}
