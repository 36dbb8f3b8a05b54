import Foundation
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
/// Memory: the records of the allowed lateness (about 100 bytes a call), bounded by the lateness and
/// the event rate, not by the input.
struct EventTimeOrder {
    /// The length of a slice: decisions are taken every five minutes of event time.
    static let tick: Int64 = 300

    struct HeldCall {
        var call: CallObservation
        /// The input the call came from (evidence names where identifiers were seen): a number in
        /// ``inputPaths`` (no reference count per call).
        var input: UInt32
    }

    struct Slice {
        var calls: [HeldCall] = []
        var events: [UsageEvent] = []
    }

    private var slices: [Int64: Slice] = [:]
    /// Slice indexes with records, ascending (a handful: the lateness over the tick).
    private var pendingIndexes: [Int64] = []
    /// The end of the last slice released: a record before it arrives late.
    private(set) var releasedThrough: EpochSeconds = .min
    /// Records that arrived after their slice was released.
    private(set) var late = 0
    /// Names of identifiers (user-agent installations, access keys, principals) of held calls, until the
    /// slice holding the newest call of the input that named them is released.
    private(set) var names: [UInt64: (name: String, until: EpochSeconds)] = [:]
    private var namesPrunedAt: EpochSeconds = .min
    /// The inputs of held calls, and how many calls of each are held (an input is forgotten with its
    /// last call).
    private var inputPaths: [UInt32: String] = [:]
    private var heldOfInput: [UInt32: Int] = [:]
    private var nextInput: UInt32 = 0

    var isEmpty: Bool { pendingIndexes.isEmpty }

    static func sliceIndex(of time: EpochSeconds) -> Int64 {
        time >= 0 ? time / tick : (time - tick + 1) / tick
    }

    /// The slice a record of `time` joins: its own, or the next to be released when that one is gone.
    private mutating func index(for time: EpochSeconds) -> Int64 {
        let own = Self.sliceIndex(of: time)
        guard releasedThrough != .min else { return own }
        let next = releasedThrough / Self.tick
        if own < next {
            late += 1
            return next
        }
        return own
    }

    private mutating func slot(_ index: Int64) {
        if slices[index] != nil { return }
        slices[index] = Slice()
        // Mostly appended at the end: insert from the back.
        var i = pendingIndexes.count
        while i > 0 && pendingIndexes[i - 1] > index { i -= 1 }
        pendingIndexes.insert(index, at: i)
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
        let i = index(for: call.time)
        slot(i)
        slices[i]!.calls.append(HeldCall(call: call, input: input))
    }

    mutating func add(_ event: UsageEvent) {
        let i = index(for: event.time)
        slot(i)
        slices[i]!.events.append(event)
    }

    /// Keeps the names an input carried for its calls' identifiers until those calls are released.
    mutating func learnNames(_ table: KeyTable<String>, until newest: EpochSeconds) {
        table.forEach { key, name in
            if let i = names.index(forKey: key) {
                if names.values[i].until < newest { names.values[i].until = newest }
            } else {
                names[key] = (name, newest)
            }
        }
    }

    func name(_ key: UInt64) -> String? { names[key]?.name }

    /// Forgets names whose calls have all been released (every hour of event time: amortised).
    mutating func forgetNames() {
        guard releasedThrough >= namesPrunedAt &+ 3600 || namesPrunedAt == .min else { return }
        namesPrunedAt = releasedThrough
        names = names.filter { $0.value.until >= releasedThrough }
    }

    /// The next slice whose end the frontier has passed (every slice when `frontier` is nil: the end of
    /// the input), its records in their canonical order, and the instant it ends.
    mutating func next(through frontier: EpochSeconds?) -> (end: EpochSeconds, slice: Slice)? {
        guard let index = pendingIndexes.first else { return nil }
        let end = (index + 1) * Self.tick
        if let frontier, end > frontier { return nil }
        pendingIndexes.removeFirst()
        var slice = slices.removeValue(forKey: index)!
        releasedThrough = end
        slice.calls = canonical(slice.calls)
        slice.events.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.eventID != b.eventID { return a.eventID.utf8.lexicographicallyPrecedes(b.eventID.utf8) }
            return a.resourceID.utf8.lexicographicallyPrecedes(b.resourceID.utf8)
        }
        return (end, slice)
    }

    /// The calls in their canonical order: time, event key, account key, then (a tie only a call
    /// delivered twice under two ids could make) the input's path. Sorted as small keys, then gathered.
    private func canonical(_ calls: [HeldCall]) -> [HeldCall] {
        var sorted = true
        for i in calls.indices.dropFirst() where !Self.precedes(calls[i - 1], calls[i], paths: inputPaths) {
            sorted = false
            break
        }
        if sorted { return calls }
        var keys = calls.indices.map { (time: calls[$0].call.time, event: calls[$0].call.eventKey, at: UInt32($0)) }
        let paths = inputPaths
        keys.sort { a, b in
            if a.time != b.time { return a.time < b.time }
            if a.event != b.event { return a.event < b.event }
            return Self.precedes(calls[Int(a.at)], calls[Int(b.at)], paths: paths)
        }
        return keys.map { calls[Int($0.at)] }
    }

    private static func precedes(_ a: HeldCall, _ b: HeldCall, paths: [UInt32: String]) -> Bool {
        if a.call.time != b.call.time { return a.call.time < b.call.time }
        if a.call.eventKey != b.call.eventKey { return a.call.eventKey < b.call.eventKey }
        if a.call.accountKey != b.call.accountKey { return a.call.accountKey < b.call.accountKey }
        return (paths[a.input] ?? "").utf8.lexicographicallyPrecedes((paths[b.input] ?? "").utf8)
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
        /// Bit 0 an address, 1 a sign-in, 2 a machine; bits 16–31 the country.
        var flags: [Int64]
        var agentKeys: [UInt64]
        var accessKeyKeys: [UInt64]
        var principalKeys: [UInt64]
        var events: [UsageEvent]
        var nameKeys: [UInt64]
        var nameValues: [String]
        var nameUntil: [Int64]
    }

    var snapshot: Snapshot {
        var s = Snapshot(
            releasedThrough: releasedThrough, late: late, inputs: [], inputOfCall: [], accountKeys: [], eventKeys: [],
            times: [], addressHigh: [], addressLow: [], flags: [], agentKeys: [], accessKeyKeys: [], principalKeys: [],
            events: [], nameKeys: [], nameValues: [], nameUntil: [])
        var inputIndex: [UInt32: Int32] = [:]
        for index in pendingIndexes {
            let slice = slices[index]!
            for h in slice.calls {
                let c = h.call
                let n: Int32
                if let known = inputIndex[h.input] {
                    n = known
                } else {
                    n = Int32(s.inputs.count)
                    inputIndex[h.input] = n
                    s.inputs.append(inputPaths[h.input] ?? "")
                }
                s.inputOfCall.append(n)
                s.accountKeys.append(c.accountKey)
                s.eventKeys.append(c.eventKey)
                s.times.append(c.time)
                let address = c.sourceIP?.value ?? 0
                s.addressHigh.append(UInt64(truncatingIfNeeded: address >> 64))
                s.addressLow.append(UInt64(truncatingIfNeeded: address))
                var flags: Int64 = 0
                if c.sourceIP != nil { flags |= 1 }
                if c.isSignIn { flags |= 2 }
                if c.isMachine { flags |= 4 }
                flags |= Int64(c.country.raw) << 16
                s.flags.append(flags)
                s.agentKeys.append(c.agentKey)
                s.accessKeyKeys.append(c.accessKeyKey)
                s.principalKeys.append(c.principalKey)
            }
            s.events += slice.events
        }
        for key in names.keys.sorted() {
            let entry = names[key]!
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
        for i in s.accountKeys.indices {
            let flags = s.flags[i]
            let call = CallObservation(
                accountKey: s.accountKeys[i], eventKey: s.eventKeys[i], time: s.times[i],
                sourceIP: flags & 1 != 0
                    ? IPAddress(value: UInt128(s.addressHigh[i]) << 64 | UInt128(s.addressLow[i])) : nil,
                country: CountryCode(raw: UInt16(truncatingIfNeeded: flags >> 16)), isSignIn: flags & 2 != 0,
                agentKey: s.agentKeys[i], accessKeyKey: s.accessKeyKeys[i], principalKey: s.principalKeys[i],
                isMachine: flags & 4 != 0)
            // Each record goes back to the slice it was held in (a late one to the next to be released).
            let own = Self.sliceIndex(of: call.time)
            let index = releasedThrough == .min ? own : max(own, releasedThrough / Self.tick)
            slot(index)
            let input = UInt32(s.inputOfCall[i])
            inputPaths[input] = s.inputs[Int(input)]
            heldOfInput[input, default: 0] += 1
            slices[index]!.calls.append(HeldCall(call: call, input: input))
        }
        nextInput = UInt32(s.inputs.count)
        for event in s.events {
            let own = Self.sliceIndex(of: event.time)
            let index = releasedThrough == .min ? own : max(own, releasedThrough / Self.tick)
            slot(index)
            slices[index]!.events.append(event)
        }
        for (i, key) in s.nameKeys.enumerated() { names[key] = (s.nameValues[i], s.nameUntil[i]) }
    }
}
