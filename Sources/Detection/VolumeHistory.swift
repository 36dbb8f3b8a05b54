public import UsageModel

/// Accelerator-hours of recent sessions of one account or one peer group, for the volume evidence:
/// a bounded window for robust statistics (median and median absolute deviation) and an exponentially
/// weighted moving average over all of them.
public struct VolumeHistory: Sendable, Codable, Equatable {
    /// The latest `capacity` sessions' accelerator-hours, oldest first.
    public private(set) var recent: [Double] = []
    public private(set) var sessions = 0
    public private(set) var ewma = 0.0
    let capacity: Int
    /// Median and MAD of the window, recomputed every `refresh` additions (a window of 256 is sorted
    /// once per 16 sessions, not per assessment).
    private var median = 0.0
    private var mad = 0.0
    let refresh: Int

    public static let alpha = 0.3

    public init(capacity: Int, refresh: Int = 1) {
        self.capacity = capacity
        self.refresh = refresh
    }

    public mutating func add(_ acceleratorHours: Double) {
        if recent.count == capacity { recent.removeFirst() }
        recent.append(acceleratorHours)
        ewma = sessions == 0 ? acceleratorHours : Self.alpha * acceleratorHours + (1 - Self.alpha) * ewma
        sessions += 1
        if sessions % refresh == 0 || sessions < 2 * refresh {
            median = Self.median(recent)
            mad = Self.median(recent.map { abs($0 - median) })
        }
    }

    /// Median and median absolute deviation of the window; nil with fewer than `minimum` sessions.
    public func baseline(minimum: Int) -> (median: Double, mad: Double)? {
        guard recent.count >= minimum else { return nil }
        return (median, mad)
    }

    /// How far `value` lies above the window in robust standard deviations (MAD × 1.4826, at least
    /// 10% of the median and one accelerator-hour, so that a flat history does not make any change infinite).
    public func robustZ(_ value: Double, minimum: Int) -> (z: Double, median: Double, mad: Double)? {
        guard let (median, mad) = baseline(minimum: minimum) else { return nil }
        let scale = max(1.4826 * mad, 0.1 * median, 1)
        return ((value - median) / scale, median, mad)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}

/// Volume histories of every account and every peer group (the accounts of one reseller; accounts with
/// no reseller form one group per provider), and when the stream began: what the volume evidence
/// compares a session with.
public struct VolumeBook: Sendable, Codable {
    private var accounts: [String: VolumeHistory] = [:]
    private var groups: [String: VolumeHistory] = [:]
    /// The first event time of the stream: an account first seen well after it is new.
    public var streamStart: EpochSeconds = .max

    public init() {}

    public static func group(provider: String, reseller: String?) -> String { reseller ?? "(direct \(provider))" }

    public func account(_ id: String) -> VolumeHistory? { accounts[id] }
    /// Accounts and the sessions their windows hold (`CHIPTRAIL_MEMORY_LOG`).
    public var memoryReport: String {
        "\(accounts.count)/\(accounts.capacity) accounts \(accounts.values.reduce(0) { $0 + $1.recent.capacity }) hours"
    }
    public func group(_ id: String) -> VolumeHistory? { groups[id] }

    /// Restores one account's or one group's history from a checkpoint row.
    public mutating func restore(account id: String, _ history: VolumeHistory) { accounts[id] = history }
    public mutating func restore(group id: String, _ history: VolumeHistory) { groups[id] = history }
    /// Every account and group (for a checkpoint of the whole state).
    public var accountIDs: [String] { Array(accounts.keys) }
    public var groupIDs: [String] { Array(groups.keys) }

    /// Adds a closed session's accelerator-hours to its account and its peer group.
    public mutating func add(account: String, group: String, acceleratorHours: Double) {
        accounts[account, default: VolumeHistory(capacity: 32)].add(acceleratorHours)
        groups[group, default: VolumeHistory(capacity: 256, refresh: 16)].add(acceleratorHours)
    }
}
