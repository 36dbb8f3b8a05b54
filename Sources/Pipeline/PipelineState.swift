import Detection
import Sessions
import UsageModel

/// The pipeline's live state, as checkpoints save it.
struct PipelineState: Codable {
    var dedup: WindowedDeduplicator.Snapshot
    var sessions: Sessionizer.Snapshot
    var activityKeys: [UInt64]
    var activity: [AccountActivity]
    var accountKeys: [UInt64]
    var accountNames: [String]
    var eventAccounts: [UInt64]
    var watermark: EpochSeconds
    var identities: IdentityGraph.Snapshot
    var resellerUse: ResellerAggregate
    /// Absent in checkpoints of earlier versions.
    var alertedOpen: [AlertedRun]?
    var volume: VolumeBook?
    /// Records held for the event-time frontier (absent before they were held).
    var order: EventTimeOrder.Snapshot?
    var billedAccounts: [String]?
}

/// A session alerted while it ran: its resource, id and the time it covered then. The session that
/// later closes over it (the same run, perhaps under another id once an earlier event arrived) raises
/// no second alert.
struct AlertedRun: Codable, Sendable {
    var resource: String
    var session: String
    var start: EpochSeconds
    var end: EpochSeconds

    static func resource(of s: Session) -> String { "\(s.provider.rawValue)|\(s.accountID)|\(s.resourceID)" }

    func covers(_ s: Session) -> Bool { session == s.id || (start <= s.end && s.start <= end) }
}

/// An account's last alert (carry, ``DetectionConfig/lookbackCarry``): the tick it was raised at, its
/// session and score.
struct AccountStanding: Codable, Sendable, Equatable {
    var time: EpochSeconds
    var session: String
    var score: Double
}
