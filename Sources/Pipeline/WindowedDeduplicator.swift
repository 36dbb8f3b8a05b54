import Foundation
import UsageModel

/// Remembers event keys per day of event time, for `retentionDays` behind the newest day: a record
/// delivered twice (the same event id in two files) counts once, and memory follows the event rate,
/// not the input's size.
struct WindowedDeduplicator {
    /// A few days at most: a short list searched from the newest.
    private var buckets: [(day: Int64, keys: KeySet)] = []
    private var newestDay: Int64 = .min
    /// Tables of days that left the window, emptied for the next days: no churn of large allocations.
    /// At most ``spareLimit``: a day's table is made when its first key comes, and billing lines make
    /// every day of their period's tables at once, before the audit logs reach those days (an export read
    /// first: a month of tables); the days then leave one by one while no new day needs a table, and every
    /// table emptied was kept (issue 17: 27 spare tables of 2–4 MB at the 20,000-account world's end).
    private var spare: [KeySet] = []
    static let spareLimit = 2
    /// Spare tables held (for tests).
    var spareTables: Int { spare.count }
    /// The most keys a day has held (sizes new tables).
    private var largestDay = 0
    let retentionDays: Int64
    /// Whether keys added and days dropped are remembered for ``takeChanges()`` (`tail`'s checkpoints).
    var tracking = false
    /// Keys added since the last ``takeChanges()``, with their days, and the days dropped since.
    private var fresh: [(day: Int64, keys: [UInt64])] = []
    private var dropped: [Int64] = []

    init(retentionDays: Int64 = 2) {
        self.retentionDays = retentionDays
    }

    @inline(__always)
    private static func day(_ time: EpochSeconds) -> Int64 {
        time >= 0 ? time / 86_400 : (time - 86_399) / 86_400
    }

    /// Whether `key` at `time` is new (and remembers it).
    mutating func insert(_ key: UInt64, at time: EpochSeconds) -> Bool {
        let day = Self.day(time)
        if newestDay != .min && day < newestDay - retentionDays {
            return true  // older than the window: cannot be checked
        }
        let i: Int
        if let found = bucket(of: day) {
            i = found
        } else {
            // A new day's table starts at the size of the largest so far: no rehashing as it fills.
            buckets.append((day, spare.popLast() ?? KeySet(capacity: max(1 << 12, largestDay))))
            i = buckets.count - 1
        }
        guard buckets[i].keys.insert(key) else { return false }
        if tracking { remember(key, day: day) }
        return true
    }

    private mutating func remember(_ key: UInt64, day: Int64) {
        if let i = fresh.lastIndex(where: { $0.day == day }) {
            fresh[i].keys.append(key)
        } else {
            fresh.append((day, [key]))
        }
    }

    /// The keys added (by day) and the days dropped since the last call: a checkpoint stores each
    /// batch's new keys as a chunk of their day and deletes a dropped day's chunks.
    mutating func takeChanges() -> (added: [(day: Int64, keys: [UInt64])], dropped: [Int64], newestDay: Int64) {
        defer {
            fresh = []
            dropped = []
        }
        return (fresh, dropped, newestDay)
    }

    /// Every day's keys taken as added (after a restore from a whole-state checkpoint).
    mutating func markAllChanged() {
        fresh = buckets.map { ($0.day, $0.keys.elements) }
        dropped = []
    }

    /// Restores the window from the chunks a checkpoint stored.
    mutating func restore(chunks: [(day: Int64, keys: [UInt64])], newestDay: Int64) {
        buckets = []
        // Each day's table sized for all its chunks at once (no rehashing while they are added).
        var sizes: [Int64: Int] = [:]
        for (day, keys) in chunks { sizes[day, default: 0] += keys.count }
        largestDay = max(largestDay, sizes.values.max() ?? 0)
        for (day, keys) in chunks {
            let i: Int
            if let found = bucket(of: day) {
                i = found
            } else {
                buckets.append((day, KeySet(capacity: max(1 << 12, sizes[day]!))))
                i = buckets.count - 1
            }
            for key in keys { _ = buckets[i].keys.insert(key) }
        }
        buckets.sort { $0.day < $1.day }
        self.newestDay = newestDay
    }

    /// The table of `day`, if it has one (a short list, searched from the newest).
    @inline(__always)
    private func bucket(of day: Int64) -> Int? {
        var i = buckets.count - 1
        while i >= 0 && buckets[i].day != day { i -= 1 }
        return i >= 0 ? i : nil
    }

    /// Prepares the look-up of `key` at `time`, for an `insert` a few keys later (a hint: no change;
    /// `mutating`, like ``KeySet/prefetch(_:)``, so the tables are borrowed in place, not copied).
    @inline(__always)
    mutating func prefetch(_ key: UInt64, at time: EpochSeconds) {
        if let i = bucket(of: Self.day(time)) { buckets[i].keys.prefetch(key) }
    }

    /// Drops days that fell out of the window behind `time`. Returns the bytes of the tables let go (not
    /// kept as spares).
    @discardableResult
    mutating func advance(to time: EpochSeconds) -> Int {
        let day = Self.day(time)
        guard day > newestDay else { return 0 }
        newestDay = day
        var freed = 0
        while let index = buckets.firstIndex(where: { $0.day < day - retentionDays }) {
            let (gone, t) = buckets.remove(at: index)
            var table = t
            if tracking {
                dropped.append(gone)
                fresh.removeAll { $0.day == gone }
            }
            largestDay = max(largestDay, table.count)
            guard spare.count < Self.spareLimit else {
                freed += table.slots * MemoryLayout<UInt64>.stride
                continue
            }
            table.removeAll()
            spare.append(table)
        }
        return freed
    }

    var count: Int { buckets.reduce(0) { $0 + $1.keys.count } }

    /// Days, keys and table bytes, and the spares' bytes (`CHIPTRAIL_MEMORY_LOG`).
    var memoryReport: String {
        let days = buckets.map { "\($0.day):\($0.keys.count)/\(($0.keys.slots * 8) >> 20)M" }
        return "window " + days.joined(separator: " ") + " spares \(spare.map { ($0.slots * 8) >> 20 })M"
    }

    /// Keys as raw little-endian bytes: a window holds hundreds of thousands of them.
    struct Snapshot: Codable {
        var days: [Int64]
        var keys: [Data]
        var newestDay: Int64
    }

    var snapshot: Snapshot {
        Snapshot(
            days: buckets.map(\.day),
            keys: buckets.map { b in b.keys.elements.withUnsafeBytes { Data($0) } },
            newestDay: newestDay)
    }

    mutating func restore(_ s: Snapshot) {
        buckets = []
        for (day, data) in zip(s.days, s.keys) {
            let count = data.count / 8
            var set = KeySet(capacity: max(1 << 12, count))
            data.withUnsafeBytes { raw in
                for i in 0..<count { _ = set.insert(raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) }
            }
            buckets.append((day, set))
        }
        newestDay = s.newestDay
    }
}
