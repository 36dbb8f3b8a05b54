public import UsageModel
import HeapModule

/// Cuts compute lifecycle events into sessions, per resource, tolerant of events that arrive out of
/// order (across files and delivery delays) up to `allowedLateness`.
///
/// Memory holds only the live state: resources with events not yet finalised, and the last known type
/// of every instance (Start/Stop calls do not name the type).
///
/// ```swift
/// var sessionizer = Sessionizer()
/// sessionizer.observe(event)
/// for session in sessionizer.advance(to: watermark) { … }
/// for session in sessionizer.finish(at: lastTime) { … }
/// ```
public struct Sessionizer: Sendable {
    struct ResourceKey: Hashable, Sendable, Codable {
        var provider: CloudProvider
        var account: String
        var resource: String
    }

    /// How far behind the newest event time an event may still arrive and be joined.
    public var allowedLateness: Int64
    /// What the sessionizer holds of one resource: its events not yet finalised (in time order), and
    /// the type the last lifecycle event to name one named (remembered across sessions: Start and Stop
    /// calls name none). One table for both: a second table by resource cost 168 bytes an open session
    /// (issue 17).
    struct Resource: Sendable {
        /// Its events not yet finalised; billing lines alone packed (``HeldEvents``).
        var pending: HeldEvents = .none
        /// The remembered type's number in `typeNames`; 0 for none.
        var knownType: UInt32 = 0
        /// Its instance count; `Int32.min` when the count does not fit (it is then in `largeCounts`).
        var knownCount: Int32 = 1

        var isEmpty: Bool { pending.isEmpty && knownType == 0 }
    }

    /// The remembered instance types by number (0: none): a few names for any number of resources.
    private var typeNames: [String] = [""]
    private var typeNumbers: [String: UInt32] = [:]
    /// Remembered instance counts that do not fit in 32 bits (the decoders cap counts far below).
    private var largeCounts: [ResourceKey: Int] = [:]

    /// Every resource with events not yet finalised or a remembered type (never an empty one).
    private var held: [ResourceKey: Resource] = [:]
    /// The live resources of each account (for ``provisional(at:accounts:)``).
    private var resourcesOfAccount: [String: [ResourceKey]] = [:]
    /// How many resources of `resourcesOfAccount` each account has, by the account's key
    /// (`StableHash.hash` of its id): the pipeline asks at every tick for the accounts it saw calls of,
    /// by key, and most have none (no name looked up, no string hashed).
    private var liveByAccountKey = KeyTable<Int32>(capacity: 256)
    /// Sessions already emitted with their end, so that a late duplicate cannot emit one again;
    /// forgotten once they ended more than `rememberEmitted` before the watermark.
    private var emitted: [String: EpochSeconds] = [:]
    /// Runs of each resource emitted closed, kept `rememberClosedRuns` behind the watermark: billing lines
    /// for them that arrive after the close join the run they bill instead of opening a second session
    /// of it. Billing exports come a day or more after the hours they bill, and CUR 2.0 rewrites a
    /// month's export in place until a few days after the month ends, its lines read again at each
    /// rewrite: remembered for three days, a run's lines read again later opened a second session of it,
    /// alerted again (and a session alerted while running, under the same id). Memory: a run a closed
    /// accelerated session of the last `rememberClosedRuns`, by its resource's ``closedKey(_:)`` (32 bytes
    /// a bucket, the first run inline): by the resource's key, with its runs in an array of their own,
    /// they held ~250 bytes each, 25 MB of 100,000 at the end of the 20,000-account world (issue 17).
    private var closedRuns: [UInt64: ClosedRuns] = [:]
    public var rememberClosedRuns: Int64 = Sessionizer.defaultRememberClosedRuns
    /// A billing period and the days after it its export is still rewritten: 40 days.
    public static let defaultRememberClosedRuns: Int64 = 40 * 86_400
    /// Billing lines absorbed by runs already emitted (counted, not re-emitted).
    public private(set) var lateUsage = 0
    public var rememberEmitted: Int64 = 2 * 86_400
    private var lastPrune: EpochSeconds = .min
    /// When to look at closable resources (latest event a stop, termination or billing period: the only
    /// ones `advance` can finalise) again: a min-heap of due times, each a lower bound of the resource's
    /// true due time, so `advance` looks only at resources that may be due, not at all.
    private var dueQueue = DueQueue<ResourceKey>()
    /// Whether changed resources and emitted ids are remembered for ``takeChanges()`` (`tail`).
    public var tracking = false
    private var changedKeys = Set<ResourceKey>()
    private var changedClosed = Set<UInt64>()
    private var changedEmitted = Set<String>()
    /// The principals and user agents of the held events, one copy of each (issue 17: 176 bytes an open
    /// session where an account launches its instances from one principal and agent).
    private var strings = StringPool()
    /// The texts of the billed runs held (``HeldEvents/billed(_:)``).
    private var billedTexts = BilledTexts()
    /// Whether billing lines are held packed (``HeldEvents``); off only in tests, which compare the two.
    var packsBilledRuns = true
    /// Resources whose events are held packed, as billed runs (for tests).
    var billedResources: Int {
        held.values.reduce(0) {
            guard case .billed(let runs) = $1.pending, !runs.isEmpty else { return $0 }
            return $0 + 1
        }
    }

    /// Counts and capacities of the held state (`CHIPTRAIL_MEMORY_LOG`).
    package var memoryReport: String {
        var runs = 0
        var events = 0
        for resource in held.values {
            switch resource.pending {
            case .events(let e): events += e.count
            case .billed(let r): runs += r.count
            }
        }
        let heldBytes = held.capacity * (MemoryLayout<ResourceKey>.stride + MemoryLayout<Resource>.stride)
        return
            "sessionizer held \(held.count)/\(held.capacity) (\(heldBytes >> 20)M table) runs \(runs) events \(events)"
            + " emitted \(emitted.count)/\(emitted.capacity) closedRuns \(closedRuns.count) ofAccount \(resourcesOfAccount.count)"
            + " due \(dueQueue.count)"
    }

    /// The largest gap between consecutive billing periods of one resource that still makes one session.
    public var usageGap: Int64

    public init(allowedLateness: Int64 = 6 * 3600, usageGap: Int64 = 2 * 3600) {
        self.allowedLateness = allowedLateness
        self.usageGap = usageGap
    }

    /// The type and count remembered for `resource` (of `key`), if any.
    private func remembered(_ key: ResourceKey, _ resource: Resource) -> (type: String, count: Int)? {
        guard resource.knownType != 0 else { return nil }
        let count = resource.knownCount == .min ? largeCounts[key] ?? 1 : Int(resource.knownCount)
        return (typeNames[Int(resource.knownType)], count)
    }

    /// The numbers a remembered `type` and `count` of `key` are held as.
    private mutating func code(type: String, count: Int, for key: ResourceKey) -> (type: UInt32, count: Int32) {
        let number: UInt32
        if let known = typeNumbers[type] {
            number = known
        } else {
            number = UInt32(typeNames.count)
            typeNames.append(type)
            typeNumbers[type] = number
        }
        if !largeCounts.isEmpty { largeCounts[key] = nil }
        if let small = Int32(exactly: count), small != .min { return (number, small) }
        largeCounts[key] = count
        return (number, .min)
    }

    private mutating func remember(type: String, count: Int, for key: ResourceKey) {
        let (number, small) = code(type: type, count: count, for: key)
        held[key, default: Resource()].knownType = number
        held[key]!.knownCount = small
    }

    /// Resources with events not yet finalised.
    public var liveResources: Int { held.values.reduce(0) { $0 + ($1.pending.isEmpty ? 0 : 1) } }

    /// Whether the resource has lifecycle events not yet finalised or a remembered type: its lifecycle
    /// events matter whatever they name (a stop names no type). Billing lines do not count: they join
    /// when read, not at event-time ticks, so a stop followed or dropped would depend on when the
    /// export came.
    ///
    /// `mutating` only so that a caller holding the sessionizer in a class borrows it in place: called as
    /// a non-mutating method on the pipeline's property, the whole sessionizer was copied and destroyed at
    /// every lifecycle event (each of its tables retained and released: ~70 of 5,800 samples on the
    /// large customer's trail at `--jobs 1`).
    public mutating func tracks(provider: CloudProvider, account: String, resource: String) -> Bool {
        let key = ResourceKey(provider: provider, account: account, resource: resource)
        guard let resource = held[key] else { return false }
        if resource.knownType != 0 { return true }
        guard case .events(let events) = resource.pending else { return false }  // billing lines alone
        return events.contains { $0.action != .usage }
    }

    /// Everything the sessionizer holds, for checkpoints (`tail`): restoring it and observing the same
    /// events afterwards gives the same sessions as never having stopped.
    public struct Snapshot: Codable, Sendable {
        struct Known: Codable, Sendable {
            var key: ResourceKey
            var type: String
            var count: Int
        }
        struct Pending: Codable, Sendable {
            var key: ResourceKey
            var events: [UsageEvent]
        }
        var pending: [Pending]
        var known: [Known]
        var emitted: [String: EpochSeconds]
        var lastPrune: EpochSeconds
        /// Of earlier versions (by the resource's key); read, never written.
        var closedRuns: [ClosedRunEntry]? = nil
        var closedRunsByKey: [ClosedRunsRow]? = nil
    }

    struct ClosedRun: Codable, Sendable {
        var start: EpochSeconds
        var end: EpochSeconds
    }

    /// Closed runs by the resource's key, as snapshots and rows of earlier versions hold them (read, not
    /// written).
    struct ClosedRunEntry: Codable, Sendable {
        var key: ResourceKey
        var runs: [ClosedRun]
    }

    /// One resource's closed runs by its ``closedKey(_:)``: a snapshot's entry and a row of `tail`'s live
    /// state.
    public struct ClosedRunsRow: Codable, Sendable {
        var key: UInt64
        var runs: [ClosedRun]
    }

    /// One resource's closed runs (at least one): the first inline, any more (a resource stopped and
    /// started apart within `rememberClosedRuns`) in an array.
    struct ClosedRuns: Sendable {
        var first: ClosedRun
        var more: [ClosedRun] = []

        init?(_ runs: [ClosedRun]) {
            guard let first = runs.first else { return nil }
            self.first = first
            more = Array(runs.dropFirst())
        }

        var all: [ClosedRun] { [first] + more }

        func contains(where isIt: (ClosedRun) -> Bool) -> Bool { isIt(first) || more.contains(where: isIt) }
    }

    /// The key a resource's closed runs are kept by: the stable hash (FNV-1a) of its provider, account
    /// and resource, a zero byte between them. Stable across runs and versions: `tail`'s live state keeps
    /// its rows by it. Two resources of one hash (1 in 10^10 for 100,000 runs held) would share their runs.
    static func closedKey(_ key: ResourceKey) -> UInt64 { hash(key, separator: 0) }

    /// The stable hash (FNV-1a) of `provider`, `separator`, `account`, `separator`, `resource`, hashed in
    /// parts (FNV-1a continues from a seed) instead of a string built first.
    static func hash(_ key: ResourceKey, separator: UInt8) -> UInt64 {
        let prime: UInt64 = 0x0000_0100_0000_01B3
        var h = StableHash.hash(key.provider.rawValue)
        h = (h ^ UInt64(separator)) &* prime
        h = StableHash.hash(key.account, seed: h)
        h = (h ^ UInt64(separator)) &* prime
        return StableHash.hash(key.resource, seed: h)
    }

    public var snapshot: Snapshot {
        func order(_ a: ResourceKey, _ b: ResourceKey) -> Bool {
            (a.provider.rawValue, a.account, a.resource) < (b.provider.rawValue, b.account, b.resource)
        }
        return Snapshot(
            pending: held.indices.compactMap { i in
                held.values[i].pending.isEmpty ? nil : Snapshot.Pending(key: held.keys[i], events: events(at: i))
            }.sorted { order($0.key, $1.key) },
            known: held.compactMap { r in
                remembered(r.key, r.value).map { Snapshot.Known(key: r.key, type: $0.type, count: $0.count) }
            }.sorted { order($0.key, $1.key) },
            emitted: emitted, lastPrune: lastPrune,
            closedRunsByKey: closedRuns.map { ClosedRunsRow(key: $0.key, runs: $0.value.all) }.sorted {
                $0.key < $1.key
            })
    }

    /// One resource's live state, as a checkpoint row.
    public struct ResourceRow: Codable, Sendable {
        var key: ResourceKey
        var pending: [UsageEvent]?
        var knownType: String?
        var knownCount: Int?
        /// Rows of earlier versions only: closed runs are rows of their own (``ClosedRunsRow``).
        var closedRuns: [ClosedRun]?
    }

    /// What changed since the last call: each changed resource (key bytes, and its row, nil when the
    /// resource holds nothing any more), each changed resource's closed runs (by ``closedKey(_:)``, nil
    /// when none are kept any more), each emitted id added (with its end) or forgotten (nil), and the time
    /// of the last pruning.
    public mutating func takeChanges(
        encode: (any Encodable) throws -> [UInt8]
    ) rethrows -> (
        resources: [(key: [UInt8], row: ResourceRow?)], closedRuns: [(key: UInt64, row: ClosedRunsRow?)],
        emitted: [(id: String, end: EpochSeconds?)], lastPrune: EpochSeconds
    ) {
        var resources: [(key: [UInt8], row: ResourceRow?)] = []
        for key in changedKeys {
            let index = held.index(forKey: key)
            let known = index.flatMap { remembered(key, held.values[$0]) }
            let row = ResourceRow(
                key: key, pending: index.flatMap { held.values[$0].pending.isEmpty ? nil : events(at: $0) },
                knownType: known?.type,
                knownCount: known?.count)
            let empty = row.pending == nil && known == nil
            resources.append((try encode(key), empty ? nil : row))
        }
        let closed = changedClosed.sorted().map { key in
            (key, closedRuns[key].map { ClosedRunsRow(key: key, runs: $0.all) })
        }
        let ids = changedEmitted.map { ($0, emitted[$0]) }
        changedKeys = []
        changedClosed = []
        changedEmitted = []
        return (resources, closed, ids, lastPrune)
    }

    /// Every resource and emitted id marked changed (after a restore from a whole-state checkpoint).
    public mutating func markAllChanged() {
        changedKeys = Set(held.keys)
        changedClosed = Set(closedRuns.keys)
        changedEmitted = Set(emitted.keys)
    }

    /// Restores what ``takeChanges(encode:)`` saved, row by row.
    public mutating func restore(
        resources: [ResourceRow], closedRuns closed: [ClosedRunsRow] = [], emitted: [(id: String, end: EpochSeconds)],
        lastPrune: EpochSeconds
    ) {
        held = [:]
        largeCounts = [:]
        closedRuns = [:]
        for row in resources {
            if let type = row.knownType { remember(type: type, count: row.knownCount ?? 1, for: row.key) }
            if let events = row.pending, !events.isEmpty {
                held[row.key, default: Resource()].pending = .events(events)
            }
            if let runs = row.closedRuns {
                // A row of schema 13: its runs are written again as a row of their own, and the resource's
                // row without them, at the next checkpoint (else the next change of the resource wrote its
                // row without them, and a restart after it lost them).
                let closed = Self.closedKey(row.key)
                closedRuns[closed] = ClosedRuns(runs)
                changedClosed.insert(closed)
                changedKeys.insert(row.key)
            }
        }
        for row in closed { closedRuns[row.key] = ClosedRuns(row.runs) }
        self.emitted = Dictionary(uniqueKeysWithValues: emitted.map { ($0.id, $0.end) })
        self.lastPrune = lastPrune
        rebuildIndexes()
    }

    /// Points every held event's principal and user agent at the pool's copy, the pool made anew from
    /// them (it forgets the texts no event holds any more).
    private mutating func internStrings() {
        strings.startRebuild()
        // An index at a time, not `held.indices`: those hold the table, and changing it would copy it.
        var index = held.startIndex
        while index != held.endIndex {
            // Billed runs hold no principal or agent.
            if case .events(var events) = held.values[index].pending {
                held.values[index].pending = .none  // the list's one reference: changed in place
                for i in events.indices {
                    events[i].principal = strings.intern(events[i].principal)
                    events[i].userAgent = strings.intern(events[i].userAgent)
                }
                held.values[index].pending = .events(events)
            }
            held.formIndex(after: &index)
        }
        strings.endRebuild()
    }

    /// Numbers the texts of every billed run held anew, in a table made from them (it forgets the texts no
    /// run holds any more).
    private mutating func renumberBilledTexts() {
        let old = billedTexts.startRebuild()
        var index = held.startIndex
        while index != held.endIndex {
            if case .billed(var runs) = held.values[index].pending {
                held.values[index].pending = .none
                for i in runs.indices {
                    if runs[i].type != .max { runs[i].type = billedTexts.number(old[runs[i].type]) }
                    runs[i].region = billedTexts.number(old[runs[i].region])
                    runs[i].name = billedTexts.number(old[runs[i].name])
                    runs[i].path = billedTexts.number(old[runs[i].path])
                }
                held.values[index].pending = .billed(runs)
            }
            held.formIndex(after: &index)
        }
        billedTexts.endRebuild()
    }

    /// The events not yet finalised of the resource at `index`, billed runs spelled out.
    private func events(at index: [ResourceKey: Resource].Index) -> [UsageEvent] {
        switch held.values[index].pending {
        case .events(let events): return events
        case .billed(let runs):
            let key = held.keys[index]
            return runs.map { event(of: $0, key: key) }
        }
    }

    /// The event `run` of the resource held under `key` stands for: equal, field for field, to the
    /// billing lines' event summed as ``insert(_:into:)`` sums them.
    private func event(of run: BilledRun, key: ResourceKey) -> UsageEvent {
        var event = UsageEvent(
            provider: key.provider, action: .usage, time: run.time, accountID: key.account,
            resourceID: key.resource, instanceType: run.type == .max ? nil : billedTexts[run.type],
            region: billedTexts[run.region], eventID: BillingEventID.spell(run.key),
            eventName: billedTexts[run.name], usageSeconds: run.seconds, usageHours: run.hours,
            origin: EventOrigin(path: billedTexts[run.path], position: .line(run.line)))
        event.usageRecords = run.records
        return event
    }

    /// `event` as a run of the resource held under `key`, when the run spells it back exactly: a billing
    /// line of one instance with no address, principal or agent, read at a line, whose id is one
    /// ``BillingEventID`` spells, whose account and resource are the key's bytes. Nil otherwise (it is
    /// then held as an event).
    private mutating func billedRun(_ event: UsageEvent, key: ResourceKey) -> BilledRun? {
        guard packsBilledRuns, event.action == .usage, event.instanceCount == 1, event.sourceIP == nil,
            event.principal == nil,
            event.userAgent == nil, case .line(let line) = event.origin.position,
            let id = BillingEventID.key(of: event.eventID), ExactText.same(event.accountID, key.account),
            ExactText.same(event.resourceID, key.resource)
        else { return nil }
        return BilledRun(
            time: event.time, seconds: event.usageSeconds, hours: event.usageHours, records: event.usageRecords,
            key: id, line: line, type: event.instanceType.map { billedTexts.number($0, field: 0) } ?? .max,
            region: billedTexts.number(event.region, field: 1), name: billedTexts.number(event.eventName, field: 2),
            path: billedTexts.number(event.origin.path, field: 3))
    }

    /// The first instance type the held events of the resource at `index` name.
    private func firstType(at index: [ResourceKey: Resource].Index) -> String? {
        switch held.values[index].pending {
        case .events(let events): events.lazy.compactMap(\.instanceType).first
        case .billed(let runs): runs.first { $0.type != .max }.map { billedTexts[$0.type] }
        }
    }

    /// The due queue and the resources of each account, from the restored pending events.
    private mutating func rebuildIndexes() {
        internStrings()
        dueQueue = DueQueue()
        for (key, resource) in held where Self.isClosable(resource.pending) { dueQueue.schedule(key, at: .min) }
        resourcesOfAccount = Dictionary(
            grouping: held.lazy.filter { !$0.value.pending.isEmpty }.map(\.key), by: \.account)
        liveByAccountKey = KeyTable<Int32>(capacity: max(256, resourcesOfAccount.count))
        for (account, keys) in resourcesOfAccount {
            liveByAccountKey.update(StableHash.hash(account), default: { 0 }) { $0 = Int32(keys.count) }
        }
    }

    public mutating func restore(_ s: Snapshot) {
        held = [:]
        largeCounts = [:]
        for p in s.pending where !p.events.isEmpty { held[p.key, default: Resource()].pending = .events(p.events) }
        for k in s.known { remember(type: k.type, count: k.count, for: k.key) }
        emitted = s.emitted
        closedRuns = [:]
        for entry in s.closedRuns ?? [] { closedRuns[Self.closedKey(entry.key)] = ClosedRuns(entry.runs) }
        for row in s.closedRunsByKey ?? [] { closedRuns[row.key] = ClosedRuns(row.runs) }
        lastPrune = s.lastPrune
        rebuildIndexes()
    }

    /// Adds one lifecycle event or billing line (de-duplicated by event id before, but for a named
    /// instance's billing line: a run that already bills its hour takes it as nothing new).
    /// Returns false for a billing line that adds nothing (its hour within a run already held or emitted:
    /// delivered again, or late): the caller assesses nothing anew for it.
    @discardableResult
    public mutating func observe(_ event: UsageEvent) -> Bool {
        if strings.needsRebuild { internStrings() }
        if billedTexts.needsRebuild { renumberBilledTexts() }
        var event = event
        event.principal = strings.intern(event.principal)
        event.userAgent = strings.intern(event.userAgent)
        let key = ResourceKey(provider: event.provider, account: event.accountID, resource: event.resourceID)
        // A billing period inside a run already emitted belongs to it (it arrived after the close).
        if event.action == .usage, !closedRuns.isEmpty, let runs = closedRuns[Self.closedKey(key)],
            runs.contains(where: { $0.start - 3600 < event.time && event.time < $0.end })
        {
            lateUsage += 1
            return false
        }
        // Billing records always name their type; only lifecycle types are remembered across sessions.
        var known: (type: UInt32, count: Int32)? = nil
        if event.action != .usage, let type = event.instanceType {
            known = code(type: type, count: event.instanceCount, for: key)
        }
        // One hash look-up, the resource changed in place.
        guard let (closable, first, last) = add(event, remembering: known, key: key) else {
            lateUsage += 1
            return false
        }
        if tracking { changedKeys.insert(key) }
        // Its first event since it was last let go: a billing line summed into the one event already
        // held is not (it once was, by the count of events: the key listed again at every such line).
        if first {
            resourcesOfAccount[key.account, default: []].append(key)
            liveByAccountKey.update(StableHash.hash(key.account), default: { 0 }) { $0 += 1 }
        }
        // Every due time is at least the resource's last event time plus the lateness.
        if closable { dueQueue.schedule(key, at: last + allowedLateness) }
        return true
    }

    /// Adds `event` to the resource of `key` (and the type it names, coded): packed while the resource's
    /// events are billing lines a run spells back, spelled out as events once one is not. Returns whether
    /// its list is closable after, whether it held no event before, and its last time; nil, and nothing
    /// changed, for a billing line whose period a held run of the same type already spans — the line
    /// delivered again (``delivered(_:in:)``).
    private mutating func add(
        _ event: UsageEvent, remembering known: (type: UInt32, count: Int32)?, key: ResourceKey
    ) -> (closable: Bool, first: Bool, last: EpochSeconds)? {
        let index: [ResourceKey: Resource].Index
        if let found = held.index(forKey: key) {
            index = found
            if event.action == .usage, !event.isFleetUsage, delivered(event, in: held.values[found].pending) {
                return nil
            }
        } else {
            held[key] = Resource()
            index = held.index(forKey: key)!
        }
        if let known {
            held.values[index].knownType = known.type
            held.values[index].knownCount = known.count
        }
        // The list taken out, so that its one reference changes it in place, and put back.
        let pending = held.values[index].pending
        held.values[index].pending = .none
        let first = pending.isEmpty
        switch pending {
        case .billed(var runs):
            if let run = billedRun(event, key: held.keys[index]) {
                Self.insert(run, into: &runs, texts: billedTexts)
                held.values[index].pending = .billed(runs)
                return (true, first, runs.last!.time)
            }
            let stored = held.keys[index]
            var events = runs.map { self.event(of: $0, key: stored) }
            runs = []
            let closable = Self.insert(event, into: &events)
            held.values[index].pending = .events(events)
            return (closable, first, events.last!.time)
        case .events(var events):
            if events.isEmpty, let run = billedRun(event, key: held.keys[index]) {
                held.values[index].pending = .billed([run])
                return (true, first, run.time)
            }
            let closable = Self.insert(event, into: &events)
            held.values[index].pending = .events(events)
            return (closable, first, events.last!.time)
        }
    }

    /// Whether `line`'s billing period lies wholly within a billing run `pending` holds of the same type,
    /// begun by a line of the same usage type: the line was delivered before. CUR 2.0 rewrites a month's
    /// export in place as the month goes on and its files are read again whole, older lines beyond the
    /// de-duplication window (two days): summed again, each rewrite added a running session's hours once
    /// more. One instance's lines are hourly or daily and meet without overlapping, so a line that a run
    /// already spans is one it has. Asked only for a resource the export names (an instance, a VM): the
    /// lines of an export without resource ids are a fleet's per type and zone (`billing:…`), several to
    /// an hour (on-demand and spot, Linux and Windows), and are summed as before — delivered again, summed
    /// again.
    private func delivered(_ line: UsageEvent, in pending: HeldEvents) -> Bool {
        let end = line.time + line.usageSeconds
        switch pending {
        case .billed(let runs):
            return runs.contains { run in
                run.time <= line.time && end <= run.time + run.seconds
                    && (run.type == .max
                        ? line.instanceType == nil : line.instanceType.map { billedTexts[run.type] == $0 } == true)
                    && billedTexts[run.name] == line.eventName
            }
        case .events(let events):
            return events.contains {
                $0.action == .usage && $0.time <= line.time && end <= $0.time + $0.usageSeconds
                    && $0.instanceType == line.instanceType && $0.eventName == line.eventName
            }
        }
    }

    /// Whether held events `pending` may be finalised by `advance` (billed runs: always, their last event
    /// is a billing period).
    static func isClosable(_ pending: HeldEvents) -> Bool {
        switch pending {
        case .events(let events): isClosable(events)
        case .billed(let runs): !runs.isEmpty
        }
    }

    /// Whether types `a` and `b` of billed runs are equal as `String?`s (canonically equivalent texts are).
    @inline(__always)
    static func sameType(_ a: UInt32, _ b: UInt32, _ texts: BilledTexts) -> Bool {
        a == b || (a != .max && b != .max && texts[a] == texts[b])
    }

    /// Inserts `run` in time order, summed as ``insert(_:into:)`` sums the billing periods it stands for.
    static func insert(_ run: BilledRun, into list: inout [BilledRun], texts: BilledTexts) {
        var index = list.count
        while index > 0 && list[index - 1].time > run.time { index -= 1 }
        let p = index - 1
        if index > 0, list[p].time <= run.time, run.time <= list[p].time + list[p].seconds,
            sameType(list[p].type, run.type, texts)
        {
            let end = max(list[p].time + list[p].seconds, run.time + run.seconds)
            list[p].seconds = end - list[p].time
            list[p].hours += run.hours
            list[p].records += run.records
            if index < list.count, list[index].time <= end, sameType(list[index].type, list[p].type, texts) {
                let nextEnd = list[index].time + list[index].seconds
                list[p].seconds = max(end, nextEnd) - list[p].time
                list[p].hours += list[index].hours
                list[p].records += list[index].records
                list.remove(at: index)
            }
        } else if index < list.count, list[index].time >= run.time, list[index].time <= run.time + run.seconds,
            sameType(list[index].type, run.type, texts)
        {
            let end = max(run.time + run.seconds, list[index].time + list[index].seconds)
            list[index].hours += run.hours
            list[index].records += run.records
            list[index].time = run.time
            list[index].seconds = end - run.time
            list[index].line = run.line
            list[index].path = run.path
            list[index].key = run.key
        } else {
            list.insert(run, at: index)
        }
    }

    /// How far a termination may be stamped before its launch (clock skew between API endpoints) and
    /// still end the session that launch opens.
    public static let clockSkew: Int64 = 300

    /// Whether a resource whose latest event has `action` may be finalised by `advance`.
    @inline(__always)
    static func isClosable(_ action: ComputeAction?) -> Bool {
        guard let action else { return false }
        return action == .stop || action == .terminate || action == .usage || action == .failed
    }

    /// Whether `list` ends in a launch whose termination was stamped just before it (clock skew).
    /// (Fields read in place: a copy of an event retains its nine strings.)
    static func endsInSkewedTermination(_ list: [UsageEvent]) -> Bool {
        let n = list.count
        guard n >= 2, list[n - 1].action == .launch else { return false }
        return list[n - 2].action == .terminate && list[n - 1].time - list[n - 2].time <= clockSkew
    }

    static func isClosable(_ list: [UsageEvent]) -> Bool {
        isClosable(list.last?.action) || endsInSkewedTermination(list)
    }

    /// Inserts in time order; returns whether the list is closable after.
    static func insert(_ event: UsageEvent, into list: inout [UsageEvent]) -> Bool {
        // Keep time order; events mostly arrive in order, so insert from the back.
        var index = list.count
        while index > 0 && list[index - 1].time > event.time { index -= 1 }
        if event.action == .usage {
            // Billing periods that touch or overlap are summed into one event, whatever their order of
            // arrival: memory follows the resource's runs, not its hourly lines. (Fields are compared in
            // place: copying an event retains all its strings.)
            let p = index - 1
            if index > 0, list[p].action == .usage, list[p].time <= event.time,
                event.time <= list[p].time + list[p].usageSeconds, list[p].instanceType == event.instanceType
            {
                let end = max(list[p].time + list[p].usageSeconds, event.time + event.usageSeconds)
                list[p].usageSeconds = end - list[p].time
                list[p].usageHours += event.usageHours
                list[p].usageRecords += event.usageRecords
                // It may now reach the next period too.
                if index < list.count, list[index].action == .usage, list[index].time <= end,
                    list[index].instanceType == list[p].instanceType
                {
                    let nextEnd = list[index].time + list[index].usageSeconds
                    list[p].usageSeconds = max(end, nextEnd) - list[p].time
                    list[p].usageHours += list[index].usageHours
                    list[p].usageRecords += list[index].usageRecords
                    list.remove(at: index)
                }
            } else if index < list.count, list[index].action == .usage, list[index].time >= event.time,
                list[index].time <= event.time + event.usageSeconds, list[index].instanceType == event.instanceType
            {
                // The event starts just before the next period: it becomes the period's start.
                let end = max(event.time + event.usageSeconds, list[index].time + list[index].usageSeconds)
                list[index].usageHours += event.usageHours
                list[index].usageRecords += event.usageRecords
                list[index].time = event.time
                list[index].usageSeconds = end - event.time
                list[index].origin = event.origin
                list[index].eventID = event.eventID
            } else {
                list.insert(event, at: index)
            }
        } else {
            list.insert(event, at: index)
        }
        return isClosable(list)
    }

    /// Sessions that ended at least `allowedLateness` before `watermark` (the newest event time seen).
    public mutating func advance(to watermark: EpochSeconds) -> [Session] {
        var out: [Session] = []
        // Forgetting is amortised: each remembered entry is looked at a few times in its life, not
        // at every hour of event time (rebuilding both tables each hour cost 7% of a CloudTrail ingest).
        if watermark > lastPrune + min(rememberEmitted, rememberClosedRuns) / 4 {
            lastPrune = watermark
            if tracking {
                for (id, end) in emitted where end + rememberEmitted < watermark { changedEmitted.insert(id) }
            }
            emitted = emitted.filter { $0.value + rememberEmitted >= watermark }
            // Changed in place (rebuilt, the table was held twice for a moment).
            let aged = closedRuns.compactMap { key, runs in
                runs.contains(where: { $0.end + rememberClosedRuns < watermark }) ? key : nil
            }
            for key in aged {
                closedRuns[key] = ClosedRuns(closedRuns[key]!.all.filter { $0.end + rememberClosedRuns >= watermark })
                if tracking { changedClosed.insert(key) }
            }
        }
        while let key = dueQueue.popDue(at: watermark) {
            // The checks below are those of `isClosable`: a resource no longer closable is passed over.
            guard let index = held.index(forKey: key) else { continue }
            let events = self.events(at: index)
            guard let last = events.last else { continue }
            if last.action == .usage {
                // Billing alone: closed once no period follows within the gap (and lateness).
                // (Running by the audit log: looked at again when its next event arrives.)
                guard !Self.runningByLifecycle(events) else { continue }
                let usageEnd = events.reduce(EpochSeconds.min) { max($0, $1.time + $1.usageSeconds) }
                guard usageEnd + usageGap + allowedLateness <= watermark else {
                    dueQueue.schedule(key, at: usageEnd + usageGap + allowedLateness)
                    continue
                }
                // Closed before they are emitted, so that their runs are remembered as closed runs are:
                // lines of them delivered again join them (``closedRuns``).
                out += emit(
                    build(key, events, finalAt: nil).map {
                        var s = $0
                        s.open = false
                        return s
                    })
                forget(key)
                continue
            }
            guard
                last.action == .stop || last.action == .terminate || last.action == .failed
                    || Self.endsInSkewedTermination(events)
            else { continue }
            guard last.time + allowedLateness <= watermark else {
                dueQueue.schedule(key, at: last.time + allowedLateness)
                continue
            }
            out += emit(build(key, events, finalAt: nil))
            forget(key)
            if last.action == .terminate || last.action == .failed {
                held[key]?.knownType = 0
                if !largeCounts.isEmpty { largeCounts[key] = nil }
                dropIfEmpty(key)
            }
            if tracking { changedKeys.insert(key) }
        }
        shrinkHeldIfSparse()
        return out.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
    }

    /// Builds `held` again at twice its count once a quarter of its capacity or less is used: a
    /// `Dictionary` keeps its largest size, and the billing exports, read ahead of the audit logs, fill it
    /// with every billed resource of their days (105,000 of the world of 20,000 accounts), which the
    /// trail's time then closes (about 30,000 left at its end): 262,144 buckets of 56 bytes kept for the
    /// run (issue 17). Halving the count to shrink, doubling it to grow: no resource is moved twice
    /// without its count changing twofold. Nothing reads the table's order but ``finish(at:)``, whose
    /// sessions go by start and id.
    ///
    /// The table made for `target` holds fewer than `2 * target` (its buckets are the power of two above
    /// `target / 0.75`), so a table already under that is left alone: one of the smallest size, with a few
    /// resources left in it, is not built again at every tick.
    private mutating func shrinkHeldIfSparse() {
        let target = max(held.count * 2, Self.smallestHeldCapacity)
        guard held.count < held.capacity / 4, held.capacity >= 2 * target else { return }
        var fresh = [ResourceKey: Resource](minimumCapacity: target)
        for (key, resource) in held { fresh[key] = resource }
        held = fresh
        heldRebuilds += 1
    }
    /// How many times `held` was built again smaller (for tests).
    private(set) var heldRebuilds = 0
    /// The smallest capacity `held` is built again for.
    static let smallestHeldCapacity = 1024
    /// The capacity of the held resources' table (for tests).
    var heldCapacity: Int { held.capacity }

    /// Every remaining session; those still running are `open`, ending at `lastTime`.
    public mutating func finish(at lastTime: EpochSeconds) -> [Session] {
        var out: [Session] = []
        finish(at: lastTime) { out.append($0) }
        return out
    }

    /// Hands every remaining session to `body`, one at a time, in the order of ``finish(at:)``'s list
    /// (start, then id); those still running are `open`, ending at `lastTime`.
    ///
    /// The end of the input: the events are let go, the remembered types and closed runs stay, and the
    /// sessions handed over are not remembered as emitted (nothing is observed after an ingest's end;
    /// their ids cost 63 bytes an open session at the end of a run).
    ///
    /// The sessions are not all held at once: a first pass builds each resource's sessions and keeps
    /// only where each goes in the order (32 bytes a session), a second builds them again in that order.
    /// At the end of an input with many sessions still running, the list of all of them, their ids and
    /// events were the run's peak of memory (400 bytes an open session, issue 17).
    /// - Complexity: O(s log s) for s sessions; each resource's sessions are built twice.
    public mutating func finish(at lastTime: EpochSeconds, _ body: (Session) -> Void) {
        /// Where a session goes: its start and id (the hash its id spells: ids compare as the hashes
        /// do), and which resource and which of its sessions it is.
        struct Place {
            var start: EpochSeconds
            var id: UInt64
            var resource: [ResourceKey: Resource].Index
            var ordinal: Int32
        }
        var places: [Place] = []
        places.reserveCapacity(held.count)
        var index = held.startIndex
        while index != held.endIndex {
            let key = held.keys[index]
            let sessions = build(key, events(at: index), finalAt: lastTime)
            for (ordinal, session) in sessions.enumerated() where emitted[session.id] == nil {
                places.append(
                    Place(start: session.start, id: Self.idHash(session.id), resource: index, ordinal: Int32(ordinal)))
            }
            held.formIndex(after: &index)
        }
        // A session whose id is already kept is left out: the first in table order stays (as `emit` did).
        places.sort { ($0.start, $0.id, $0.resource, $0.ordinal) < ($1.start, $1.id, $1.resource, $1.ordinal) }
        var kept = 0
        for i in places.indices
        where i == 0 || (places[i].start, places[i].id) != (places[i - 1].start, places[i - 1].id) {
            places[kept] = places[i]
            kept += 1
        }
        places.removeLast(places.count - kept)
        var built: (resource: [ResourceKey: Resource].Index, sessions: [Session])? = nil
        for place in places {
            if built?.resource != place.resource {
                built = (
                    place.resource, build(held.keys[place.resource], events(at: place.resource), finalAt: lastTime)
                )
            }
            let session = built!.sessions[Int(place.ordinal)]
            if !session.open {
                let key = ResourceKey(
                    provider: session.provider, account: session.accountID, resource: session.resourceID)
                rememberClosed(ClosedRun(start: session.start, end: session.end), of: key)
            }
            body(session)
        }
        built = nil
        // The events let go in place (an index at a time: `held.indices` would hold the table, and a
        // change copy it); the remembered types stay.
        var empty: [ResourceKey] = []
        index = held.startIndex
        while index != held.endIndex {
            held.values[index].pending = .none
            if held.values[index].knownType == 0 { empty.append(held.keys[index]) }
            held.formIndex(after: &index)
        }
        for key in empty { held[key] = nil }
        dueQueue = DueQueue()
        resourcesOfAccount.removeAll()
        liveByAccountKey.removeAll()
    }

    /// The hash an id (`s-` and sixteen hex digits) spells.
    static func idHash(_ id: String) -> UInt64 {
        UInt64(id.dropFirst(2), radix: 16) ?? 0
    }

    /// The sessions of the live resources of accounts `accounts` selects, as they stand at `watermark`,
    /// without finalising anything: those still running are `open` and end at the watermark. Sessions
    /// already emitted are left out. For alerts raised while a session runs; the ids are those the
    /// sessions will have when they close.
    /// `type` picks the resources worth building by the instance type their events or the last launch
    /// named (nil: none named). It must depend on the type alone: its answers are remembered for the call
    /// (an account has thousands of live resources of a handful of types, and the answer is a catalogue
    /// look-up).
    public func provisional(
        at watermark: EpochSeconds, accounts: some Sequence<String>,
        resources: [(provider: CloudProvider, account: String, resource: String)] = [],
        type: (String?) -> Bool = { _ in true }
    ) -> [Session] {
        var out: [Session] = []
        var answers: [(type: String?, keep: Bool)] = []
        func keep(_ instanceType: String?) -> Bool {
            if let known = answers.first(where: { $0.type == instanceType }) { return known.keep }
            let answer = type(instanceType)
            if answers.count < 64 { answers.append((instanceType, answer)) }
            return answer
        }
        for account in accounts {
            for key in resourcesOfAccount[account] ?? [] {
                guard let index = held.index(forKey: key), !held.values[index].pending.isEmpty,
                    keep(firstType(at: index) ?? remembered(key, held.values[index])?.type)
                else { continue }
                out += build(key, events(at: index), finalAt: watermark).filter { emitted[$0.id] == nil }
            }
        }
        // Single resources (their own events changed), unless their whole account was looked at.
        let whole = Set(accounts)
        var seen = Set<ResourceKey>()
        for r in resources where !whole.contains(r.account) {
            let key = ResourceKey(provider: r.provider, account: r.account, resource: r.resource)
            guard seen.insert(key).inserted, let index = held.index(forKey: key), !held.values[index].pending.isEmpty,
                keep(firstType(at: index) ?? remembered(key, held.values[index])?.type)
            else { continue }
            out += build(key, events(at: index), finalAt: watermark).filter { emitted[$0.id] == nil }
        }
        return out.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
    }

    /// Those of `accounts` (keys: `StableHash.hash` of the ids) that have live resources, in their order.
    /// One call for a whole batch: a call on the pipeline's stored sessionizer copies it (a retain per
    /// table), so not one per account.
    public func withLiveResources(keys accounts: [UInt64]) -> [UInt64] {
        accounts.filter { (liveByAccountKey[$0] ?? 0) > 0 }
    }

    private mutating func forget(_ key: ResourceKey) {
        if tracking { changedKeys.insert(key) }
        held[key]?.pending = .none
        dropIfEmpty(key)
        if var keys = resourcesOfAccount[key.account], let i = keys.firstIndex(of: key) {
            keys.remove(at: i)
            resourcesOfAccount[key.account] = keys.isEmpty ? nil : keys
            liveByAccountKey.update(StableHash.hash(key.account), default: { 0 }) { $0 -= 1 }
        }
    }

    /// Removes the resource's entry when it holds nothing any more.
    private mutating func dropIfEmpty(_ key: ResourceKey) {
        if held[key]?.isEmpty == true { held[key] = nil }
    }

    /// Remembers a closed run of `key`, joined with a remembered one it overlaps or touches: a resource
    /// stopped and started often holds a run per stretch, not one per session (the whole list is its
    /// live-state row, written again at each change).
    private mutating func rememberClosed(_ run: ClosedRun, of resource: ResourceKey) {
        let key = Self.closedKey(resource)
        var merged = run
        var runs = closedRuns[key]?.all ?? []
        runs.removeAll { other in
            guard other.start <= merged.end && merged.start <= other.end else { return false }
            merged = ClosedRun(start: min(merged.start, other.start), end: max(merged.end, other.end))
            return true
        }
        runs.append(merged)
        closedRuns[key] = ClosedRuns(runs)
        if tracking { changedClosed.insert(key) }
    }

    /// Keeps the sessions not emitted before and remembers them as emitted.
    private mutating func emit(_ sessions: [Session]) -> [Session] {
        sessions.filter {
            guard emitted[$0.id] == nil else { return false }
            emitted[$0.id] = $0.end
            if tracking { changedEmitted.insert($0.id) }
            if !$0.open {
                let key = ResourceKey(provider: $0.provider, account: $0.accountID, resource: $0.resourceID)
                rememberClosed(ClosedRun(start: $0.start, end: $0.end), of: key)
            }
            return true
        }
    }

    /// Whether the audit log shows the resource running at the end of `events` (a launch or start
    /// after the last stop).
    static func runningByLifecycle(_ events: [UsageEvent]) -> Bool {
        for e in events.reversed() {
            switch e.action {
            case .launch, .start: return true
            case .stop, .terminate, .failed: return false
            case .usage: continue
            }
        }
        return false
    }

    private func build(_ key: ResourceKey, _ events: [UsageEvent], finalAt: EpochSeconds?) -> [Session] {
        var sessions: [Session] = []
        var current: Session? = nil
        let known = held[key].flatMap { remembered(key, $0) }
        func makeSession(_ event: UsageEvent) -> Session {
            let type = event.instanceType ?? known?.type
            let count = event.instanceType != nil ? event.instanceCount : (known?.count ?? event.instanceCount)
            return Session(
                id: Self.sessionID(key, start: event.time), provider: key.provider, accountID: key.account,
                resourceID: key.resource, instanceType: type, instanceCount: max(1, count), start: event.time,
                end: event.time, open: true, regions: event.region.isEmpty ? [] : [event.region], events: [event])
        }
        /// Whether the current session's run is known from lifecycle events (not billing alone).
        var currentByLifecycle = false
        /// A termination with no session open: perhaps stamped just before its launch (clock skew).
        var orphanTermination: UsageEvent? = nil
        // An index at a time, each field read where it lies: a loop variable was a copy of every event (nine
        // strings retained and released) besides the one each session keeps; and sessions are extended in
        // place (a copy of one, extended, copied its whole list of events).
        for i in events.indices {
            switch events[i].action {
            case .launch, .start, .usage:
                if events[i].action == .usage {
                    // A billing period that starts inside the session just closed belongs to it.
                    if current == nil, let end = sessions.last?.end, events[i].time < end {
                        sessions[sessions.count - 1].events.append(events[i])
                        continue
                    }
                    // Billing alone: a gap longer than the bound ends the session.
                    if var running = current, !currentByLifecycle, events[i].time > running.end + usageGap {
                        running.open = false
                        sessions.append(running)
                        current = nil
                    }
                }
                if current == nil {
                    current = makeSession(events[i])
                    currentByLifecycle = events[i].action != .usage
                    if events[i].action == .launch, let orphan = orphanTermination,
                        events[i].time - orphan.time <= Self.clockSkew
                    {
                        // Terminated within the skew of its launch: a session that ended as it began.
                        current!.events.append(orphan)
                        current!.open = false
                        sessions.append(current!)
                        current = nil
                        currentByLifecycle = false
                        orphanTermination = nil
                        continue
                    }
                } else {
                    current!.events.append(events[i])
                    if events[i].action != .usage && !currentByLifecycle {
                        // A launch inside the first billing period: the audit log knows the start to the
                        // second, and the machine type (billing may name a GPU SKU of it instead).
                        if events[i].time - current!.start < 3600 { current!.start = events[i].time }
                        if let type = events[i].instanceType {
                            current!.instanceType = type
                            current!.instanceCount = events[i].instanceCount
                        }
                        currentByLifecycle = true
                    }
                    if current!.instanceType == nil, let type = events[i].instanceType {
                        current!.instanceType = type
                        current!.instanceCount = events[i].instanceCount
                    }
                    if !events[i].region.isEmpty && !current!.regions.contains(events[i].region) {
                        current!.regions.append(events[i].region)
                    }
                }
                if events[i].action == .usage {
                    current!.end = max(current!.end, events[i].time + events[i].usageSeconds)
                }
            case .failed:
                current = nil  // the launch did not happen
                currentByLifecycle = false
            case .stop, .terminate:
                guard current != nil else {
                    // A stop whose start is before the input; or a termination stamped before its launch.
                    if events[i].action == .terminate { orphanTermination = events[i] }
                    continue
                }
                current!.events.append(events[i])
                current!.end = max(events[i].time, currentByLifecycle ? events[i].time : current!.end)
                current!.open = false
                sessions.append(current!)
                current = nil
                currentByLifecycle = false
            }
        }
        if var session = current {
            if let finalAt {
                if currentByLifecycle {
                    session.end = max(session.end, finalAt)
                } else {
                    // Billing alone ends at its last period; still open if that is within the gap of the input's end.
                    session.open = session.end + usageGap >= finalAt
                }
                sessions.append(session)
            } else {
                // Not finalised: keep the events (only reached if the caller finalises early).
                sessions.append(session)
            }
        }
        // The id follows the session's start, which a launch inside the first billing period moves: a
        // session keeps its id whether the audit log or the billing export was read first.
        for i in sessions.indices where sessions[i].start != sessions[i].events.first?.time {
            sessions[i].id = Self.sessionID(key, start: sessions[i].start)
        }
        return sessions
    }

    /// `s-` and the hex of the stable hash of `provider|account|resource|start`. The text is hashed in
    /// parts (FNV-1a continues from a seed) instead of being interpolated first: the same id, without
    /// building the string (3% of a large customer's run, where every live resource's session is built
    /// at each input that touches its account).
    static func sessionID(_ key: ResourceKey, start: EpochSeconds) -> String {
        let bar = UInt64(UInt8(ascii: "|"))
        var h = hash(key, separator: UInt8(ascii: "|"))
        h = (h ^ bar) &* 0x0000_0100_0000_01B3
        h = StableHash.hash(String(start), seed: h)
        return "s-" + StableHash.hex(h)
    }

    /// The id as first defined (the interpolated text hashed whole), for tests.
    static func sessionIDByText(_ key: ResourceKey, start: EpochSeconds) -> String {
        "s-" + StableHash.hex(StableHash.hash("\(key.provider.rawValue)|\(key.account)|\(key.resource)|\(start)"))
    }
}

/// A min-heap (swift-collections' `Heap`) of keys by due time, at most one live entry per key (the
/// earliest): scheduling a key again later than its entry changes nothing, earlier replaces it (the
/// old entry is skipped when it surfaces). Keys due at the same time come out in the order they were
/// scheduled: each entry carries a sequence number that breaks the tie. (The hand-written heap this
/// replaces popped ties in whatever order its layout gave; `Sessionizer/advance(to:)` sorts what it
/// emits by start and id, so the order of ties never reached the output.)
struct DueQueue<Key: Hashable & Sendable>: Sendable {
    private struct Entry: Comparable, Sendable {
        var due: Int64
        var sequence: UInt64
        var key: Key

        static func < (a: Entry, b: Entry) -> Bool { (a.due, a.sequence) < (b.due, b.sequence) }
        static func == (a: Entry, b: Entry) -> Bool { a.due == b.due && a.sequence == b.sequence }
    }

    private var heap = Heap<Entry>()
    private var scheduled: [Key: Int64] = [:]
    var count: String { "\(heap.count)/\(scheduled.count)" }
    private var sequence: UInt64 = 0

    /// Makes sure `key` is looked at once the watermark reaches `due`.
    mutating func schedule(_ key: Key, at due: Int64) {
        if let current = scheduled[key], current <= due { return }
        scheduled[key] = due
        heap.insert(Entry(due: due, sequence: sequence, key: key))
        sequence &+= 1
    }

    /// The next key due at or before `watermark` (no longer scheduled), or nil; of keys due at the same
    /// time, the one scheduled first.
    mutating func popDue(at watermark: Int64) -> Key? {
        while let top = heap.min, top.due <= watermark {
            heap.removeMin()
            guard scheduled[top.key] == top.due else { continue }  // replaced by an earlier entry
            scheduled[top.key] = nil
            return top.key
        }
        return nil
    }
}
