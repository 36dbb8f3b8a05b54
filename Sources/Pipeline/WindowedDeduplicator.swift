import UsageModel

/// Remembers event keys per day of event time, for `retentionDays` behind the newest day: a record
/// delivered twice (the same event id in two files) counts once, and memory follows the event rate,
/// not the input's size.
struct WindowedDeduplicator {
    private var buckets: [Int64: Set<UInt64>] = [:]
    private var newestDay: Int64 = .min
    let retentionDays: Int64

    init(retentionDays: Int64 = 2) {
        self.retentionDays = retentionDays
    }

    /// Whether `key` at `time` is new (and remembers it).
    mutating func insert(_ key: UInt64, at time: EpochSeconds) -> Bool {
        let day = time >= 0 ? time / 86_400 : (time - 86_399) / 86_400
        if newestDay != .min && day < newestDay - retentionDays {
            return true  // older than the window: cannot be checked
        }
        return buckets[day, default: []].insert(key).inserted
    }

    /// Drops days that fell out of the window behind `time`.
    mutating func advance(to time: EpochSeconds) {
        let day = time >= 0 ? time / 86_400 : (time - 86_399) / 86_400
        guard day > newestDay else { return }
        newestDay = day
        for old in buckets.keys where old < day - retentionDays {
            buckets[old] = nil
        }
    }

    var count: Int { buckets.values.reduce(0) { $0 + $1.count } }
}
