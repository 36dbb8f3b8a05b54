import Foundation
import NormalizedRecords
import UsageModel

/// Holds calls and lifecycle events until the event-time frontier has passed them, then gives them back
/// five minutes of event time at a time, each slice in one fixed order (time, then event key), whatever
/// order the files arrived in and however they were batched.
///
/// This is what makes the output a function of the input. Every piece of detection state — account
/// activity, the identity graph's run counters and index, the sessionizer — sees the same sequence of
/// records for the same files, and every decision (a session closed and assessed, a running session
/// alerted) is taken at a tick: the end of a slice, once the frontier (newest event time seen minus the
/// allowed lateness) is past it, with the records up to that instant and none after. `ingest`, `tail`
/// with files landing in any order within the allowed lateness, in any batches, killed and restarted
/// any number of times, take the same decisions, as streaming engines do with event-time triggers.
///
/// A record older than the last released slice (delivered later than the allowed lateness) joins the
/// next slice: it is used, never dropped, but where it lands depends on when it came, so it is outside
/// that guarantee; ``late`` counts them. Billing lines are not held: exports cover whole periods in no
/// time order and arrive a day or more after the fact (they join the sessionizer when read).
///
/// Memory: the records of the allowed lateness (72 bytes a call), bounded by the lateness and
/// the event rate, not by the input. `ingest` bounds it further (``startSpilling(budget:)``): past a
/// budget the held records wait in a temporary file, in their order, and come back a slice at a time
/// when released; the names of their identifiers always do (a block per input, looked up only when a
/// value becomes shared). The same records come back in the same order: the output does not change.
struct EventTimeOrder {
    /// The length of a slice: decisions are taken every five minutes of event time.
    static let tick: Int64 = 300

    /// A call as held: its fields packed in 72 bytes (a ``CallObservation`` takes 96, its optional
    /// 128-bit address aligned), since the buffer holds every call of the allowed lateness.
    struct HeldCall {
        var accountKey: UInt64
        var eventKey: UInt64
        var time: EpochSeconds
        var addressHigh: UInt64
        var addressLow: UInt64
        var agentKey: UInt64
        var accessKeyKey: UInt64
        var principalKey: UInt64
        /// The input the call came from (evidence names where identifiers were seen): a number in
        /// ``inputPaths`` (no reference count per call).
        var input: UInt32
        var country: UInt16
        /// Bit 0 an address, 1 a sign-in, 2 a machine, 3 CloudShell.
        var flags: UInt8
        /// The anonymising network (``AnonymousNetwork``'s bits; in what was padding, so still 72 bytes).
        var network: UInt8

        init(call c: CallObservation, input: UInt32) {
            accountKey = c.accountKey
            eventKey = c.eventKey
            time = c.time
            let address = c.sourceIP?.value ?? 0
            addressHigh = UInt64(truncatingIfNeeded: address >> 64)
            addressLow = UInt64(truncatingIfNeeded: address)
            agentKey = c.agentKey
            accessKeyKey = c.accessKeyKey
            principalKey = c.principalKey
            self.input = input
            country = c.country.raw
            flags =
                (c.sourceIP != nil ? 1 : 0) | (c.isSignIn ? 2 : 0) | (c.isMachine ? 4 : 0)
                | (c.isCloudShell ? 8 : 0)
            network = c.network.rawValue
        }

        /// Column `i` of a checkpoint (its flags word: these flags, the anonymising network in bits 8–15,
        /// the country in bits 16–31).
        init(_ s: Snapshot, _ i: Int) {
            accountKey = s.accountKeys[i]
            eventKey = s.eventKeys[i]
            time = s.times[i]
            addressHigh = s.addressHigh[i]
            addressLow = s.addressLow[i]
            agentKey = s.agentKeys[i]
            accessKeyKey = s.accessKeyKeys[i]
            principalKey = s.principalKeys[i]
            input = UInt32(s.inputOfCall[i])
            country = UInt16(truncatingIfNeeded: s.flags[i] >> 16)
            flags = UInt8(truncatingIfNeeded: s.flags[i] & 0xFF)
            network = UInt8(truncatingIfNeeded: s.flags[i] >> 8)
        }

        var call: CallObservation {
            CallObservation(
                accountKey: accountKey, eventKey: eventKey, time: time,
                sourceIP: flags & 1 != 0 ? IPAddress(value: UInt128(addressHigh) << 64 | UInt128(addressLow)) : nil,
                country: CountryCode(raw: country), isSignIn: flags & 2 != 0, agentKey: agentKey,
                accessKeyKey: accessKeyKey, principalKey: principalKey, isMachine: flags & 4 != 0,
                network: AnonymousNetwork(listed: network), isCloudShell: flags & 8 != 0)
        }
    }

    /// A released slice: its calls as they were held, the order to apply them in (nil: as held), and
    /// its lifecycle events in order.
    struct Slice {
        var calls: [HeldCall] = []
        var order: [UInt32]? = nil
        var events: [UsageEvent] = []
        /// A slice that was spilled, released with `streaming`: its records merged a block at a time from
        /// the spill file (`calls` and `events` are then empty), never whole in memory.
        var spilled: SpilledSlice? = nil

        /// The `n`th call in canonical order.
        @inline(__always) func call(_ n: Int) -> HeldCall { calls[order.map { Int($0[n]) } ?? n] }
    }

    /// A slice being filled: a reference, so that the calls of one input, which mostly fall in one or two
    /// slices, are appended without a hash look-up each.
    final class Held {
        var calls: [HeldCall] = []
        var events: [UsageEvent] = []
        /// How many of each a checkpoint has saved (a slice only grows until it is released: each
        /// checkpoint saves what was added since, as a chunk).
        var savedCalls = 0
        var savedEvents = 0
        /// Records written to the spill file, in the order held: they come before those in memory.
        var chunks: [SpilledChunk] = []
    }

    /// Records of one slice in the spill file, each kind in its canonical order (so that a released
    /// slice is merged from its chunks, never loaded whole): `calls` calls (their bytes), the held position
    /// of each (4 bytes: a checkpoint restores the order they were held in), then the events as `chiptrail
    /// normalize` writes them, in groups of about `eventGroupBytes` (read back one at a time), and the held
    /// position of each.
    struct SpilledChunk {
        var offset: Int64
        var calls: Int
        var eventGroups: [(count: Int, bytes: Int)]
        var events: Int { eventGroups.reduce(0) { $0 + $1.count } }
        var callPositions: Int64 { offset + Int64(calls * MemoryLayout<HeldCall>.stride) }
        var eventsOffset: Int64 { callPositions + Int64(calls * 4) }
        var eventPositions: Int64 { eventsOffset + Int64(eventGroups.reduce(0) { $0 + $1.bytes }) }
    }
    static let eventGroupBytes = 256 << 10

    /// The names one input carried, in the spill file: `count` keys ascending (8 bytes each), then each
    /// name's start and length in the text (4 + 4 bytes), then the text.
    struct NameBlock {
        var path: String
        var offset: Int64
        var count: Int
        var until: EpochSeconds
    }

    /// The temporary file held records and names go to (`ingest` only: never while `tracking`).
    private var spill: HeldSpill? = nil
    /// Whether new records past the budget and new names go to `spill` (off after a write fails).
    private var spilling = false
    /// Bytes of held records in memory before they go to the spill file.
    private var spillBudget = Int.max
    /// Bytes of records held in memory since the last spill (an estimate: an event counts as `eventCost`).
    private var heldBytes = 0
    static let eventCost = 384
    /// Held bytes and names' bytes (estimates; `CHIPTRAIL_MEMORY_LOG`).
    var memoryReport: String { "order held \(heldBytes >> 20)M names \(namesBytes >> 20)M" }
    /// Name tables of inputs, in the spill file (instead of `names` once those pass a quarter of the budget).
    private var nameBlocks: [NameBlock] = []
    /// Bytes of `names` (an estimate: the text and `nameEntryCost` an entry).
    private var namesBytes = 0
    static let nameEntryCost = 48

    private var slices: [Int64: Held] = [:]
    private var cached: (index: Int64, held: Held?) = (.min, nil)
    /// Slice indexes with records, ascending (a handful: the lateness over the tick).
    private var pendingIndexes: [Int64] = []
    /// The end of the last slice released: a record before it arrives late.
    private(set) var releasedThrough: EpochSeconds = .min
    /// Records that arrived after their slice was released.
    private(set) var late = 0
    /// Names of identifiers (user-agent installations, access keys, principals) of held calls, until the
    /// slice holding the newest call of the input that named them is released.
    private(set) var names: [UInt64: (name: String, until: EpochSeconds)] = [:]
    /// When names were last forgotten (saved: a restored order forgets on the same schedule).
    var namesPrunedAt: EpochSeconds = .min
    /// The inputs of held calls, and how many calls of each are held (an input is forgotten with its
    /// last call).
    private var inputPaths: [UInt32: String] = [:]
    private var heldOfInput: [UInt32: Int] = [:]
    private var nextInput: UInt32 = 0

    var isEmpty: Bool { pendingIndexes.isEmpty }

    /// Whether changed slices and names are remembered for ``takeChanges()`` (`tail`'s checkpoints).
    var tracking = false
    /// Slices that gained records, slices released, and names learnt or forgotten since the last
    /// ``takeChanges()``.
    private var changedSlices = Set<Int64>()
    private var releasedSlices: [Int64] = []
    private var changedNames = Set<UInt64>()

    static func sliceIndex(of time: EpochSeconds) -> Int64 {
        time >= 0 ? time / tick : (time - tick + 1) / tick
    }

    /// The slice a record of `time` joins: its own, or the next to be released when that one is gone
    /// (`late`).
    private func heldIndex(for time: EpochSeconds) -> (index: Int64, late: Bool) {
        let own = Self.sliceIndex(of: time)
        guard releasedThrough != .min else { return (own, false) }
        let next = releasedThrough / Self.tick
        return own < next ? (next, true) : (own, false)
    }

    private mutating func index(for time: EpochSeconds) -> Int64 {
        let (index, isLate) = heldIndex(for: time)
        if isLate { late += 1 }
        return index
    }

    private mutating func slot(_ index: Int64) -> Held {
        if index == cached.index, let held = cached.held { return held }
        // The cached slice is forgotten at each checkpoint, so a slice is marked at its first record
        // after one.
        if tracking { changedSlices.insert(index) }
        let held: Held
        if let known = slices[index] {
            held = known
        } else {
            held = Held()
            slices[index] = held
            // Mostly appended at the end: insert from the back.
            var i = pendingIndexes.count
            while i > 0 && pendingIndexes[i - 1] > index { i -= 1 }
            pendingIndexes.insert(index, at: i)
        }
        cached = (index, held)
        return held
    }

    /// Numbers an input whose calls are about to be held; ``held(_:of:)`` says how many were.
    mutating func beginInput(_ path: String) -> UInt32 {
        let n = nextInput
        nextInput &+= 1
        inputPaths[n] = path
        return n
    }

    mutating func held(_ count: Int, of input: UInt32) {
        if count == 0 { inputPaths[input] = nil } else { heldOfInput[input, default: 0] += count }
    }

    func path(of input: UInt32) -> String { inputPaths[input] ?? "" }

    mutating func add(_ call: CallObservation, input: UInt32) {
        slot(index(for: call.time)).calls.append(HeldCall(call: call, input: input))
        heldBytes &+= MemoryLayout<HeldCall>.stride
    }

    /// Holds the calls at `positions` of `calls`, all of one input, as so many ``add(_:input:)`` calls in
    /// that order would. An input's calls fall in a few slices (an hour's file in twelve) in no order: they
    /// are grouped by slice, keeping their order within each, and each slice is looked up once for its
    /// group, not once for each call (a hash look-up, a retain and a release).
    mutating func add(_ calls: [CallObservation], at positions: [Int32], input: UInt32) {
        guard !positions.isEmpty else { return }
        heldBytes &+= positions.count * MemoryLayout<HeldCall>.stride
        calls.withUnsafeBufferPointer { calls in
            // Each call's slice (a late call counted as `add(_:input:)` counts it).
            var indexes: [Int64] = []
            indexes.reserveCapacity(positions.count)
            var low = Int64.max
            var high = Int64.min
            for position in positions {
                let index = self.index(for: calls[Int(position)].time)
                indexes.append(index)
                low = min(low, index)
                high = max(high, index)
            }
            guard high - low < Self.groupedSlices else {
                for (n, position) in positions.enumerated() {
                    slot(indexes[n]).calls.append(HeldCall(call: calls[Int(position)], input: input))
                }
                return
            }
            // A counting sort by slice: `starts[s]` is where slice `low + s`'s calls begin in `grouped`.
            let span = Int(high - low) + 1
            var starts = [Int](repeating: 0, count: span + 1)
            for index in indexes { starts[Int(index - low) + 1] += 1 }
            for s in 0..<span { starts[s + 1] += starts[s] }
            var grouped = [Int32](repeating: 0, count: positions.count)
            var next = starts
            for (n, index) in indexes.enumerated() {
                let s = Int(index - low)
                grouped[next[s]] = positions[n]
                next[s] += 1
            }
            for s in 0..<span where starts[s + 1] > starts[s] {
                let held = slot(low + Int64(s))
                for g in starts[s]..<starts[s + 1] {
                    held.calls.append(HeldCall(call: calls[Int(grouped[g])], input: input))
                }
            }
        }
    }

    /// The most slices one input's calls may span to be grouped by ``add(_:at:input:)``.
    static let groupedSlices: Int64 = 1024

    mutating func add(_ event: consuming UsageEvent) {
        slot(index(for: event.time)).events.append(event)
        heldBytes &+= Self.eventCost
    }

    /// Keeps the names an input (at `path`) carried for its calls' identifiers until those calls are
    /// released: in memory, or while spilling and once the names in memory pass a quarter of the budget, as
    /// a block in the spill file (writing every input's names there cost ~2% of a run that never passed
    /// the budget).
    mutating func learnNames(_ table: KeyTable<String>, until newest: EpochSeconds, path: String = "") {
        if spilling, let spill, table.count > 0, namesBytes >= spillBudget / 4 {
            if let block = try? Self.writeNames(table, to: spill) {
                nameBlocks.append(NameBlock(path: path, offset: block.offset, count: block.count, until: newest))
                return
            }
            spilling = false
        }
        // Most keys are known already: their names are not read (a retain of each was a cache miss on
        // its storage, allocated when the input was decoded).
        table.forEachKey { key in
            if let i = names.index(forKey: key) {
                guard names.values[i].until < newest else { return }
                names.values[i].until = newest
            } else {
                let name = table[key]!
                names[key] = (name, newest)
                namesBytes &+= name.utf8.count &+ Self.nameEntryCost
            }
            if tracking { changedNames.insert(key) }
        }
    }

    /// The name of `key`, from any input whose names are still kept; the input at `path` is searched first.
    func name(_ key: UInt64, in path: String? = nil) -> String? {
        if let name = names[key]?.name { return name }
        guard let spill, !nameBlocks.isEmpty else { return nil }
        do {
            if let path {
                for block in nameBlocks where block.path == path {
                    if let name = try Self.name(key, in: block, of: spill) { return name }
                }
            }
            for block in nameBlocks where block.path != path {
                if let name = try Self.name(key, in: block, of: spill) { return name }
            }
        } catch {
            fatalError("chiptrail: \(error)")
        }
        return nil
    }

    private mutating func recountNames() {
        namesBytes = names.values.reduce(0) { $0 &+ $1.name.utf8.count &+ Self.nameEntryCost }
    }

    /// Forgets names whose calls have all been released (every hour of event time: amortised).
    mutating func forgetNames() {
        guard releasedThrough >= namesPrunedAt &+ 3600 || namesPrunedAt == .min else { return }
        namesPrunedAt = releasedThrough
        if tracking {
            for (key, entry) in names where entry.until < releasedThrough { changedNames.insert(key) }
        }
        names = names.filter { $0.value.until >= releasedThrough }
        recountNames()
        nameBlocks.removeAll { $0.until < releasedThrough }
    }

    /// The next slice whose end the frontier has passed (every slice when `frontier` is nil: the end of
    /// the input), its records in their canonical order, and the instant it ends. With `streaming`, a slice
    /// that was spilled comes as a merge of its chunks (``Slice/spilled``) rather than in arrays: a trail
    /// that holds hours of records until its end releases each five minutes of them in blocks.
    mutating func next(through frontier: EpochSeconds?, streaming: Bool = false) -> (end: EpochSeconds, slice: Slice)? {
        guard let index = pendingIndexes.first else { return nil }
        let end = (index + 1) * Self.tick
        if let frontier, end > frontier { return nil }
        pendingIndexes.removeFirst()
        let held = slices.removeValue(forKey: index)!
        heldBytes = max(
            0, heldBytes - held.calls.count * MemoryLayout<HeldCall>.stride - held.events.count * Self.eventCost)
        if cached.index == index { cached = (.min, nil) }
        releasedThrough = end
        if tracking {
            changedSlices.remove(index)
            releasedSlices.append(index)
        }
        var slice = Slice(calls: held.calls, events: held.events)
        held.calls = []
        held.events = []
        slice.order = canonical(slice.calls, from: end - Self.tick)
        Self.sortCanonically(&slice.events)
        if !held.chunks.isEmpty, let spill {
            // What is still in memory, sorted, is merged after the chunks (ties go to the earlier source:
            // the order of sorting everything as held).
            let memory = slice.order.map { $0.map { slice.calls[Int($0)] } } ?? slice.calls
            let merged = SpilledSlice(
                spill: spill, chunks: held.chunks, calls: memory, events: slice.events, paths: inputPaths)
            held.chunks = []
            slice = streaming ? Slice(spilled: merged) : merged.materialized()
        }
        return (end, slice)
    }

    /// The events' canonical order, stable (position k takes the event at order[k]); nil when they are in it.
    static func canonicalOrder(_ events: [UsageEvent]) -> [Int32]? {
        let n = events.count
        guard n > 1 else { return nil }
        return events.withUnsafeBufferPointer { e -> [Int32]? in
            let base = e.baseAddress!
            var sorted = true
            for i in 1..<n where precedes(base + i, base + i - 1) {
                sorted = false
                break
            }
            guard !sorted else { return nil }
            // Each event's time and the first bytes of its id, read once: most comparisons are settled by
            // these 16 bytes, not by the events' strings (a cache miss each, issue 17).
            var keys = [EventSortKey]()
            keys.reserveCapacity(n)
            var ascii = true
            for i in 0..<n {
                let key = EventSortKey(base + i, index: Int32(i))
                ascii = ascii && key.ascii
                keys.append(key)
            }
            guard ascii else {
                // Ids equal as strings but not in bytes (a combining accent against the precomposed letter)
                // can make the comparison inconsistent, and the order then depends on the sort's steps:
                // these are sorted exactly as before.
                var order = Array(0..<Int32(n))
                order.sort { i, j in
                    let a = base + Int(i)
                    let b = base + Int(j)
                    if precedes(a, b) { return true }
                    if precedes(b, a) { return false }
                    return i < j
                }
                return order
            }
            keys.sort { a, b in
                if a.time != b.time { return a.time < b.time }
                if a.prefix != b.prefix { return a.prefix < b.prefix }
                let x = base + Int(a.index)
                let y = base + Int(b.index)
                if precedes(x, y) { return true }
                if precedes(y, x) { return false }
                return a.index < b.index
            }
            return keys.map(\.index)
        }
    }

    /// What ``canonicalOrder(_:)`` compares of an event first: its time and the first eight bytes of its id,
    /// big-endian (zero past its end), and where the event is. When every id is ASCII the ids compare as
    /// their bytes do and unequal bytes are unequal strings, so two different prefixes order two events as
    /// their whole ids do (a shorter id that is the other's beginning comes first, as the zeros say).
    struct EventSortKey {
        var time: EpochSeconds
        var prefix: UInt64
        var index: Int32
        /// Whether the whole id is ASCII.
        var ascii: Bool

        init(_ event: UnsafePointer<UsageEvent>, index: Int32) {
            time = event.pointee.time
            self.index = index
            (prefix, ascii) = Self.prefix(of: event.pointee.eventID)
        }

        /// The first eight bytes of `text` big-endian, zero past its end, and whether all its bytes are ASCII.
        static func prefix(of text: String) -> (UInt64, Bool) {
            var value: UInt64 = 0
            var ascii = true
            var taken = 0
            for byte in text.utf8 {
                if taken < 8 {
                    value = value << 8 | UInt64(byte)
                    taken += 1
                }
                if byte >= 0x80 { ascii = false }
            }
            return (taken == 8 ? value : value << (8 * UInt64(8 - taken)), ascii)
        }
    }

    /// Whether `a` comes before `b` in the events' canonical order: time, event id, resource id.
    @inline(__always)
    static func precedes(_ a: UnsafePointer<UsageEvent>, _ b: UnsafePointer<UsageEvent>) -> Bool {
        if a.pointee.time != b.pointee.time { return a.pointee.time < b.pointee.time }
        if a.pointee.eventID != b.pointee.eventID { return a.pointee.eventID.utf8Precedes(b.pointee.eventID) }
        return a.pointee.resourceID.utf8Precedes(b.pointee.resourceID)
    }

    /// Sorts a slice's events in their canonical order, stably (events equal in all three keep the order
    /// they were held in). Through their indexes, compared in place, then moved once each along the
    /// permutation's cycles: sorting the events themselves copied them in every comparison and moved
    /// them at every merge step, a retain and a release of their nine strings each time (~5% of the
    /// large customer's `--jobs 1`, issue 17).
    static func sortCanonically(_ events: inout [UsageEvent]) {
        let n = events.count
        guard let order = canonicalOrder(events) else { return }
        // Position k takes the event at order[k]: each cycle is followed with swaps (moves, no copies).
        events.withUnsafeMutableBufferPointer { buffer in
            var placed = [Bool](repeating: false, count: n)
            for start in 0..<n where !placed[start] {
                var k = start
                while Int(order[k]) != start {
                    let next = Int(order[k])
                    buffer.swapAt(k, next)
                    placed[k] = true
                    k = next
                }
                placed[k] = true
            }
        }
    }

    /// The order of the calls in their canonical order — time, event key, account key, then (a tie
    /// only a call delivered twice under two ids could make) the input's path — or nil when they are in
    /// it already. A counting sort by the second within the slice (a late call counts as its first
    /// second), then each second's few calls compared.
    private func canonical(_ calls: [HeldCall], from start: EpochSeconds) -> [UInt32]? {
        let paths = inputPaths
        var sorted = true
        for i in calls.indices.dropFirst() where !Self.precedes(calls[i - 1], calls[i], paths: paths) {
            sorted = false
            break
        }
        if sorted { return nil }
        let width = Int(Self.tick)
        var starts = [Int32](repeating: 0, count: width + 1)
        @inline(__always) func second(_ c: HeldCall) -> Int { min(width - 1, max(0, Int(c.time - start))) }
        for c in calls { starts[second(c) + 1] += 1 }
        for i in 1...width { starts[i] += starts[i - 1] }
        // Each call's sort key (time, event key, account key, index: 32 bytes) laid out by second, so that
        // a second's calls are compared in place, not through their 72-byte held records.
        var keys = [SortKey](repeating: SortKey(time: 0, eventKey: 0, accountKey: 0, index: 0), count: calls.count)
        var next = starts
        for (i, c) in calls.enumerated() {
            let s = second(c)
            keys[Int(next[s])] = SortKey(time: c.time, eventKey: c.eventKey, accountKey: c.accountKey, index: UInt32(i))
            next[s] += 1
        }
        func before(_ a: SortKey, _ b: SortKey) -> Bool {
            if a.time != b.time { return a.time < b.time }
            if a.eventKey != b.eventKey { return a.eventKey < b.eventKey }
            if a.accountKey != b.accountKey { return a.accountKey < b.accountKey }
            // Stable: calls equal in every key keep the order they were held in, as a merge of sorted
            // spilled chunks gives them.
            if Self.precedes(calls[Int(a.index)], calls[Int(b.index)], paths: paths) { return true }
            if Self.precedes(calls[Int(b.index)], calls[Int(a.index)], paths: paths) { return false }
            return a.index < b.index
        }
        for s in 0..<width where starts[s + 1] - starts[s] > 1 {
            let range = Int(starts[s])..<Int(starts[s + 1])
            // `before` is a total order (the index settles every tie), so any sort gives the same order.
            // Most seconds hold a few calls: sorted in place by insertion, since a call of `sort` for each
            // second cost more than its comparisons (a slice of the 1 GB corpus holds ~2 calls a second).
            guard range.count <= Self.insertionSortLimit else {
                keys[range].sort(by: before)
                continue
            }
            keys.withUnsafeMutableBufferPointer { k in
                for i in range.dropFirst() {
                    let key = k[i]
                    var j = i
                    while j > range.lowerBound && before(key, k[j - 1]) {
                        k[j] = k[j - 1]
                        j -= 1
                    }
                    k[j] = key
                }
            }
        }
        return keys.map(\.index)
    }

    /// The most calls of one second ``canonical(_:from:)`` sorts by insertion.
    static let insertionSortLimit = 16

    /// What ``canonical(_:from:)`` compares of a call, and where the call is.
    private struct SortKey {
        var time: EpochSeconds
        var eventKey: UInt64
        var accountKey: UInt64
        var index: UInt32
    }

    static func precedes(_ a: HeldCall, _ b: HeldCall, paths: [UInt32: String]) -> Bool {
        if a.time != b.time { return a.time < b.time }
        if a.eventKey != b.eventKey { return a.eventKey < b.eventKey }
        if a.accountKey != b.accountKey { return a.accountKey < b.accountKey }
        return (paths[a.input] ?? "").utf8Precedes(paths[b.input] ?? "")
    }

    /// Counts off the calls of a released slice from their inputs, forgetting inputs with none held.
    mutating func released(_ calls: [HeldCall]) {
        var tally: [UInt32: Int] = [:]
        var run: (input: UInt32, count: Int) = (0, 0)
        for h in calls {
            if h.input != run.input && run.count > 0 {
                tally[run.input, default: 0] += run.count
                run.count = 0
            }
            run.input = h.input
            run.count += 1
        }
        if run.count > 0 { tally[run.input, default: 0] += run.count }
        for (input, n) in tally {
            let left = (heldOfInput[input] ?? 0) - n
            if left > 0 {
                heldOfInput[input] = left
            } else {
                heldOfInput[input] = nil
                inputPaths[input] = nil
            }
        }
    }

    // MARK: Spilling

    /// From now on, held records past `budget` bytes in memory and the names of held identifiers go to
    /// a temporary file in `directory` (`ingest`: a checkpointed order never spills). Returns false when
    /// the file cannot be made: everything then stays in memory, as before.
    @discardableResult
    mutating func startSpilling(budget: Int, directory: String = HeldSpill.defaultDirectory) -> Bool {
        guard !tracking else { return false }
        if spill == nil { spill = try? HeldSpill(directory: directory) }
        guard spill != nil else { return false }
        spilling = true
        spillBudget = budget
        return true
    }

    /// Brings everything spilled back into memory and spills no more (before checkpoints start).
    mutating func stopSpilling() {
        guard spill != nil else { return }
        for held in slices.values { load(held) }
        names = allNames()
        recountNames()
        nameBlocks = []
        spilling = false
        spill = nil
    }

    /// Whether any record or name is in the spill file now.
    var hasSpilled: Bool { !nameBlocks.isEmpty || slices.values.contains { !$0.chunks.isEmpty } }

    /// Writes the records held in memory to the spill file once they pass the budget (each slice's as a
    /// chunk after its earlier ones). A write that fails leaves them in memory and stops spilling.
    mutating func spillIfOverBudget() {
        guard spilling, heldBytes > spillBudget, let spill else { return }
        for index in pendingIndexes {
            let held = slices[index]!
            guard !held.calls.isEmpty || !held.events.isEmpty else { continue }
            do {
                let callOrder = canonical(held.calls, from: index * Self.tick)
                let offset = spill.size
                if let callOrder {
                    // Gathered a block at a time: a sorted copy of the slice would double it in memory.
                    var block: [HeldCall] = []
                    block.reserveCapacity(min(callOrder.count, SpilledSlice.callBlock))
                    try held.calls.withUnsafeBufferPointer { calls in
                        for start in stride(from: 0, to: callOrder.count, by: SpilledSlice.callBlock) {
                            block.removeAll(keepingCapacity: true)
                            for k in callOrder[start..<min(callOrder.count, start + SpilledSlice.callBlock)] {
                                block.append(calls[Int(k)])
                            }
                            _ = try block.withUnsafeBytes { try spill.append($0) }
                        }
                    }
                } else {
                    _ = try held.calls.withUnsafeBytes { try spill.append($0) }
                }
                try Self.appendPositions(callOrder, count: held.calls.count, to: spill)
                let eventOrder = Self.canonicalOrder(held.events)
                var groups: [(count: Int, bytes: Int)] = []
                var writer = NormalizedRecordWriter()
                var count = 0
                // Each event moved out for the writer and back (passed from where it lies, it was copied: its
                // nine strings retained and released).
                try held.events.withUnsafeMutableBufferPointer { events in
                    for n in events.indices {
                        let slot = events.baseAddress! + (eventOrder.map { Int($0[n]) } ?? n)
                        let event = slot.move()
                        writer.event(event, inputName: "")
                        slot.initialize(to: event)
                        count += 1
                        if writer.bytes.count >= Self.eventGroupBytes || n == events.count - 1 {
                            _ = try writer.bytes.withUnsafeBytes { try spill.append($0) }
                            groups.append((count, writer.bytes.count))
                            writer.bytes.removeAll(keepingCapacity: true)
                            count = 0
                        }
                    }
                }
                try Self.appendPositions(eventOrder, count: held.events.count, to: spill)
                held.chunks.append(SpilledChunk(offset: offset, calls: held.calls.count, eventGroups: groups))
                held.calls = []
                held.events = []
            } catch {
                spilling = false
                return
            }
        }
        heldBytes = 0
    }

    /// Appends the held position of each record in canonical order (`order[k]`; nil: as held), 4 bytes
    /// little-endian each.
    private static func appendPositions<Position: FixedWidthInteger>(
        _ order: [Position]?, count: Int, to spill: HeldSpill
    ) throws {
        let bytes = [UInt32](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let order {
                for k in 0..<count { buffer[k] = UInt32(truncatingIfNeeded: order[k]).littleEndian }
            } else {
                for k in 0..<count { buffer[k] = UInt32(truncatingIfNeeded: k).littleEndian }
            }
            initialized = count
        }
        _ = try bytes.withUnsafeBytes { try spill.append($0) }
    }

    /// Reads a slice's spilled chunks back in front of the records it holds in memory, each chunk's in
    /// the order they were held in.
    private func load(_ held: Held) {
        guard !held.chunks.isEmpty, let spill else { return }
        var calls: [HeldCall] = []
        calls.reserveCapacity(held.chunks.reduce(held.calls.count) { $0 + $1.calls })
        var events: [UsageEvent] = []
        events.reserveCapacity(held.chunks.reduce(held.events.count) { $0 + $1.events })
        // The events of one input share one copy of its path, as they did when held in memory.
        var paths: [String: String] = [:]
        do {
            for chunk in held.chunks {
                let sorted = try Self.calls(of: chunk, from: spill)
                let callAt = try Self.positions(chunk.calls, at: chunk.callPositions, from: spill)
                var unsorted = sorted
                for (k, position) in callAt.enumerated() { unsorted[Int(position)] = sorted[k] }
                calls += unsorted
                var chunkEvents: [UsageEvent] = []
                chunkEvents.reserveCapacity(chunk.events)
                var offset = chunk.eventsOffset
                for group in chunk.eventGroups {
                    chunkEvents += try Self.events(group, at: offset, from: spill, sharing: &paths)
                    offset += Int64(group.bytes)
                }
                let eventAt = try Self.positions(chunk.events, at: chunk.eventPositions, from: spill)
                var placed = [UsageEvent?](repeating: nil, count: chunkEvents.count)
                for (k, position) in eventAt.enumerated() { placed[Int(position)] = chunkEvents[k] }
                events += placed.map { $0! }
            }
        } catch {
            // The file is this process's own, unlinked: only a failing device gets here.
            fatalError("chiptrail: \(error)")
        }
        held.calls = calls + held.calls
        held.events = events + held.events
        held.chunks = []
    }

    /// A spilled chunk's calls, in canonical order.
    static func calls(of chunk: SpilledChunk, from spill: HeldSpill, first: Int = 0, count: Int? = nil)
        throws(HeldSpillError) -> [HeldCall]
    {
        let n = count ?? chunk.calls - first
        let stride = MemoryLayout<HeldCall>.stride
        var failure: Int32 = 0
        let calls = [HeldCall](unsafeUninitializedCapacity: n) { buffer, initialized in
            failure = spill.fill(UnsafeMutableRawBufferPointer(buffer), at: chunk.offset + Int64(first * stride))
            initialized = n
        }
        if failure != 0 { throw HeldSpillError(.read, errno: failure) }
        return calls
    }

    /// `count` held positions at `offset`.
    private static func positions(_ count: Int, at offset: Int64, from spill: HeldSpill) throws(HeldSpillError)
        -> [UInt32]
    {
        var out = [UInt32](repeating: 0, count: count)
        let failure = out.withUnsafeMutableBytes { spill.fill($0, at: offset) }
        if failure != 0 { throw HeldSpillError(.read, errno: failure) }
        return out.map { UInt32(littleEndian: $0) }
    }

    /// The events of one group of a spilled chunk, in canonical order; those of one input share one copy
    /// of its path (`paths`).
    static func events(
        _ group: (count: Int, bytes: Int), at offset: Int64, from spill: HeldSpill,
        sharing paths: inout [String: String]
    ) throws -> [UsageEvent] {
        let bytes = try spill.bytes(at: offset, count: group.bytes)
        var events: [UsageEvent] = []
        events.reserveCapacity(group.count)
        try bytes.withUnsafeBytes { raw in
            var reader = NormalizedRecordReader(raw, path: "held records")
            for _ in 0..<group.count {
                var event = try reader.event(inputName: "")
                if let path = paths[event.origin.path] {
                    event.origin.path = path
                } else {
                    paths[event.origin.path] = event.origin.path
                }
                events.append(event)
            }
        }
        return events
    }

    /// Writes one input's name table as a block; returns where it starts and how many names it holds.
    private static func writeNames(_ table: KeyTable<String>, to spill: HeldSpill) throws -> (offset: Int64, count: Int)
    {
        let bytes = nameBlock(table)
        let offset = try bytes.withUnsafeBytes { try spill.append($0) }
        return (offset, table.count)
    }

    /// One input's name table as a block's bytes: its keys ascending (8 bytes each), each name's start and
    /// length in the text (4 + 4), then the text. The keys are sorted with the position of their name in
    /// the table's order (16 bytes, nothing reference counted), and the names copied in a second walk of
    /// the table: sorting (key, name) pairs moved a string at every step, and collecting the names retained
    /// each (~3.8% of the large customer's samples, issue 17).
    static func nameBlock(_ table: KeyTable<String>) -> [UInt8] {
        var keys: [(key: UInt64, position: Int)] = []
        keys.reserveCapacity(table.count)
        var lengths: [Int] = []
        lengths.reserveCapacity(table.count)
        table.forEach { key, name in
            keys.append((key, keys.count))
            lengths.append(name.utf8.count)
        }
        // Keys are unique: any sort gives the one order.
        keys.sort { $0.key < $1.key }
        let count = keys.count
        // Where each name's text starts, by its position in the table's order.
        var starts = [Int](repeating: 0, count: count)
        var start = 0
        for entry in keys {
            starts[entry.position] = start
            start += lengths[entry.position]
        }
        let total = count * 16 + start
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            for (i, entry) in keys.enumerated() {
                raw.storeBytes(of: entry.key.littleEndian, toByteOffset: i * 8, as: UInt64.self)
                let span = count * 8 + i * 8
                raw.storeBytes(
                    of: UInt32(truncatingIfNeeded: starts[entry.position]).littleEndian, toByteOffset: span,
                    as: UInt32.self)
                raw.storeBytes(
                    of: UInt32(lengths[entry.position]).littleEndian, toByteOffset: span + 4, as: UInt32.self)
            }
            let text = raw.baseAddress! + count * 16
            var position = 0
            table.forEach { _, name in
                let at = text + starts[position]
                let length = lengths[position]
                position += 1
                let copied: Void? = name.utf8.withContiguousStorageIfAvailable { utf8 in
                    if let base = utf8.baseAddress { at.copyMemory(from: base, byteCount: length) }
                }
                if copied == nil {
                    for (k, byte) in name.utf8.enumerated() { at.storeBytes(of: byte, toByteOffset: k, as: UInt8.self) }
                }
            }
            initialized = total
        }
    }

    /// The name of `key` in `block`, if it holds one (a binary search of its keys).
    private static func name(_ key: UInt64, in block: NameBlock, of spill: HeldSpill) throws -> String? {
        let keys = try spill.bytes(at: block.offset, count: block.count * 8)
        let found: Int? = keys.withUnsafeBytes { raw in
            var low = 0
            var high = block.count
            while low < high {
                let mid = (low + high) / 2
                let k = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: mid * 8, as: UInt64.self))
                if k == key { return mid }
                if k < key { low = mid + 1 } else { high = mid }
            }
            return nil
        }
        guard let found else { return nil }
        let span = try spill.bytes(at: block.offset + Int64(block.count * 8 + found * 8), count: 8)
        let (start, length) = span.withUnsafeBytes {
            (
                UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)),
                UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            )
        }
        let text = try spill.bytes(at: block.offset + Int64(block.count * 16) + Int64(start), count: Int(length))
        return String(decoding: text, as: UTF8.self)
    }

    /// Every name kept, in memory and in blocks, as `names` would hold it had nothing been spilled
    /// (a name learnt again keeps its first text and the latest `until`).
    private func allNames() -> [UInt64: (name: String, until: EpochSeconds)] {
        guard let spill, !nameBlocks.isEmpty else { return names }
        var out = names
        do {
            for block in nameBlocks {
                let keys = try spill.bytes(at: block.offset, count: block.count * 16)
                var entries: [(UInt64, UInt32, UInt32)] = []
                keys.withUnsafeBytes { raw in
                    for i in 0..<block.count {
                        entries.append(
                            (
                                UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)),
                                UInt32(
                                    littleEndian: raw.loadUnaligned(
                                        fromByteOffset: block.count * 8 + i * 8, as: UInt32.self)),
                                UInt32(
                                    littleEndian: raw.loadUnaligned(
                                        fromByteOffset: block.count * 8 + i * 8 + 4, as: UInt32.self))
                            ))
                    }
                }
                let textLength = entries.last.map { Int($0.1) + Int($0.2) } ?? 0
                let text = try spill.bytes(at: block.offset + Int64(block.count * 16), count: textLength)
                for (key, start, length) in entries {
                    if let i = out.index(forKey: key) {
                        if out.values[i].until < block.until { out.values[i].until = block.until }
                    } else {
                        out[key] = (
                            String(decoding: text[Int(start)..<Int(start + length)], as: UTF8.self), block.until
                        )
                    }
                }
            }
        } catch {
            fatalError("chiptrail: \(error)")
        }
        return out
    }

    // MARK: Checkpoints

    /// The held records in columns (a call is ten numbers; the inputs they came from are a table).
    struct Snapshot: Codable {
        var releasedThrough: EpochSeconds
        var late: Int
        var inputs: [String]
        var inputOfCall: [Int32]
        var accountKeys: [UInt64]
        var eventKeys: [UInt64]
        var times: [Int64]
        var addressHigh: [UInt64]
        var addressLow: [UInt64]
        /// Bit 0 an address, 1 a sign-in, 2 a machine, 3 CloudShell; bits 8–15 the anonymising network; bits 16–31 the country.
        var flags: [Int64]
        var agentKeys: [UInt64]
        var accessKeyKeys: [UInt64]
        var principalKeys: [UInt64]
        var events: [UsageEvent]
        var nameKeys: [UInt64]
        var nameValues: [String]
        var nameUntil: [Int64]
    }

    var snapshot: Snapshot { columns(of: pendingIndexes, names: true) }

    /// What changed since the last call: for each slice that gained records, its index and the records
    /// added since (as columns: a chunk), the slices released, and each name learnt (with its entry) or
    /// forgotten (nil).
    mutating func takeChanges() -> (
        slices: [(index: Int64, columns: Snapshot)], released: [Int64],
        names: [(key: UInt64, entry: (name: String, until: EpochSeconds)?)]
    ) {
        var slices: [(index: Int64, columns: Snapshot)] = []
        for i in changedSlices.sorted() {
            if let held = self.slices[i] { load(held) }
            guard let held = self.slices[i], held.savedCalls < held.calls.count || held.savedEvents < held.events.count
            else { continue }
            slices.append((i, columns(of: [i], names: false, from: (held.savedCalls, held.savedEvents))))
            held.savedCalls = held.calls.count
            held.savedEvents = held.events.count
        }
        let changed = changedNames.sorted().map { key in (key, names[key]) }
        defer {
            changedSlices = []
            releasedSlices = []
            changedNames = []
            cached = (.min, nil)
        }
        return (slices, releasedSlices, changed)
    }

    /// Every slice and name marked changed (after a restore from a whole-state checkpoint).
    mutating func markAllChanged() {
        for held in slices.values {
            held.savedCalls = 0
            held.savedEvents = 0
        }
        changedSlices = Set(pendingIndexes)
        changedNames = Set(names.keys)
    }

    /// Restores the held records slice by slice (each where it was held; a slice's chunks in the order
    /// saved) and the names.
    init(
        releasedThrough: EpochSeconds, late: Int, slices: [(index: Int64, columns: Snapshot)],
        names: [(key: UInt64, name: String, until: EpochSeconds)]
    ) {
        self.releasedThrough = releasedThrough
        self.late = late
        var numbers: [String: UInt32] = [:]
        for (index, s) in slices {
            let held = slot(index)
            for i in s.accountKeys.indices {
                var call = HeldCall(s, i)
                let path = s.inputs[Int(call.input)]
                let n: UInt32
                if let known = numbers[path] {
                    n = known
                } else {
                    n = nextInput
                    nextInput += 1
                    numbers[path] = n
                    inputPaths[n] = path
                }
                call.input = n
                heldOfInput[n, default: 0] += 1
                held.calls.append(call)
            }
            held.events += s.events
            held.savedCalls = held.calls.count
            held.savedEvents = held.events.count
        }
        cached = (.min, nil)
        for entry in names { self.names[entry.key] = (entry.name, entry.until) }
    }

    private func columns(of indexes: [Int64], names withNames: Bool, from start: (calls: Int, events: Int) = (0, 0))
        -> Snapshot
    {
        var s = Snapshot(
            releasedThrough: releasedThrough, late: late, inputs: [], inputOfCall: [], accountKeys: [], eventKeys: [],
            times: [], addressHigh: [], addressLow: [], flags: [], agentKeys: [], accessKeyKeys: [], principalKeys: [],
            events: [], nameKeys: [], nameValues: [], nameUntil: [])
        var inputIndex: [UInt32: Int32] = [:]
        for index in indexes {
            let slice = slices[index]!
            load(slice)
            for h in slice.calls[start.calls...] {
                let n: Int32
                if let known = inputIndex[h.input] {
                    n = known
                } else {
                    n = Int32(s.inputs.count)
                    inputIndex[h.input] = n
                    s.inputs.append(inputPaths[h.input] ?? "")
                }
                s.inputOfCall.append(n)
                s.accountKeys.append(h.accountKey)
                s.eventKeys.append(h.eventKey)
                s.times.append(h.time)
                s.addressHigh.append(h.addressHigh)
                s.addressLow.append(h.addressLow)
                s.flags.append(Int64(h.flags) | Int64(h.network) << 8 | Int64(h.country) << 16)
                s.agentKeys.append(h.agentKey)
                s.accessKeyKeys.append(h.accessKeyKey)
                s.principalKeys.append(h.principalKey)
            }
            s.events += slice.events[start.events...]
        }
        let kept = withNames ? allNames() : [:]
        for key in kept.keys.sorted() {
            let entry = kept[key]!
            s.nameKeys.append(key)
            s.nameValues.append(entry.name)
            s.nameUntil.append(entry.until)
        }
        return s
    }

    init() {}

    init(restoring s: Snapshot) {
        releasedThrough = s.releasedThrough
        late = s.late
        // Each record goes back to the slice it was held in (a late one to the next to be released).
        for i in s.accountKeys.indices {
            let held = HeldCall(s, i)
            inputPaths[held.input] = s.inputs[Int(held.input)]
            heldOfInput[held.input, default: 0] += 1
            slot(heldIndex(for: held.time).index).calls.append(held)
        }
        nextInput = UInt32(s.inputs.count)
        for event in s.events { slot(heldIndex(for: event.time).index).events.append(event) }
        for (i, key) in s.nameKeys.enumerated() { names[key] = (s.nameValues[i], s.nameUntil[i]) }
    }
}
