import NormalizedRecords
import Sessions
import UsageModel

/// A closed restricted session kept for look-back, in what assessing it again and an alert of it read.
///
/// A session held as ``Session`` keeps every event whole: its id, caller, user agent and name as strings
/// of their own. Look-back keeps up to `lookback_sessions` of them an account, so those bytes were the
/// detector's largest state on large populations. This form keeps, packed: the session's own fields;
/// every event's action, time, billed seconds, hours and records, and origin (its path once per session,
/// each after the first as what differs from the one before: the files of one account, region and day
/// share most of theirs); and of its first launch or start, who made it, from where and by which call
/// (the `sources` evidence). The paths are copied, not shared: a closed session's input files are long
/// done, and the input's strings (~180 bytes each with their header) would otherwise stay for it alone. Event ids, user agents, regions and the other events'
/// callers are left out: nothing reads them again.
///
/// Layout of ``bytes`` (``NormalizedRecordWriter``'s coding; `n` a LEB128 number): id str, paths (count;
/// each: n bytes it shares with the one before, then the rest as str), provider u8, account str, resource str, type str?, instanceCount n (Int64 bits), start i64, end i64, open u8,
/// regions (count, str each), events (count; each: action u8, time i64, usageSeconds n (Int64 bits),
/// usageHours f64 bits, usageRecords n (Int64 bits), path index n, position), launch n (its index + 1;
/// 0: none) and, when there is one, its principal str?, address (u8 flag, u128), call name str.
///
/// ```swift
/// let kept = RememberedSession(session)
/// kept.session   // the session, its events holding what is kept
/// ```
struct RememberedSession: Sendable, Equatable {
    /// When the session ended: whether it is still within `lookback_days`.
    let end: EpochSeconds
    /// Its provider and start, unpacked: look-back asks for the account's mapping as of then whenever the
    /// account calls from a restricted country (structuring notes its calls), and unpacking the whole
    /// session for it at each such tick is work a field saves.
    let provider: CloudProvider
    let start: EpochSeconds
    /// The packed fields (see the layout above), allocated to their size.
    private let bytes: [UInt8]
    /// Bytes of the packed fields (`CHIPTRAIL_MEMORY_LOG`).
    var byteCount: Int { bytes.capacity }

    /// How errors name a damaged one (a row of `tail`'s live state).
    static let source = "a look-back row"

    init(_ session: Session) {
        // The events are read where they lie, field by field: `for event in session.events` copied each
        // (nine strings retained and released), a third of packing on the population of 2,000 accounts.
        let events = session.events
        var paths: [String] = []
        for i in events.indices where paths.last != events[i].origin.path && !paths.contains(events[i].origin.path) {
            paths.append(events[i].origin.path)
        }
        var w = NormalizedRecordWriter()
        w.string(session.id)
        w.count(paths.count)
        var previous: [UInt8] = []
        for path in paths {
            let utf8 = Array(path.utf8)
            let shared = zip(previous, utf8).prefix { $0 == $1 }.count
            w.varint(UInt64(shared))
            w.string(String(decoding: utf8[shared...], as: UTF8.self))
            previous = utf8
        }
        w.provider(session.provider)
        w.string(session.accountID)
        w.string(session.resourceID)
        w.optionalString(session.instanceType)
        w.varint(UInt64(bitPattern: Int64(session.instanceCount)))
        w.int64(session.start)
        w.int64(session.end)
        w.byte(session.open ? 1 : 0)
        w.count(session.regions.count)
        for region in session.regions { w.string(region) }
        let launch = events.indices.first { events[$0].action == .launch || events[$0].action == .start }
        w.count(events.count)
        for i in events.indices {
            w.action(events[i].action)
            w.int64(events[i].time)
            w.varint(UInt64(bitPattern: events[i].usageSeconds))
            w.uint64(events[i].usageHours.bitPattern)
            w.varint(UInt64(bitPattern: Int64(events[i].usageRecords)))
            w.varint(UInt64(paths.lastIndex(of: events[i].origin.path)!))
            w.position(events[i].origin.position)
        }
        if let launch {
            let event = session.events[launch]
            w.varint(UInt64(launch + 1))
            w.optionalString(event.principal)
            if let ip = event.sourceIP {
                w.byte(1)
                w.uint128(ip.value)
            } else {
                w.byte(0)
            }
            w.string(event.eventName)
        } else {
            w.varint(0)
        }
        self.end = session.end
        self.provider = session.provider
        self.start = session.start
        // A copy of the writer's bytes, allocated to their size (the writer's grew by doubling).
        self.bytes = w.bytes.withUnsafeBufferPointer { [UInt8]($0) }
    }

    /// Whether this is the session `id` (its id's bytes compared where they are packed).
    func isSession(_ id: String) -> Bool {
        var id = id
        return id.withUTF8 { utf8 in
            bytes.withUnsafeBytes { raw in
                var r = NormalizedRecordReader(raw, path: Self.source)
                guard let length = try? r.count(), length == utf8.count else { return false }
                return raw[r.at..<(r.at + length)].elementsEqual(utf8)
            }
        }
    }

    /// The session, its events holding what is kept (the others' fields empty).
    var session: Session {
        do {
            return try bytes.withUnsafeBytes { raw throws(NormalizedRecordError) -> Session in
                try Self.unpack(raw)
            }
        } catch {
            // Bytes packed by ``init(_:)`` unpack (the tests check every field at its bounds); a row of
            // `tail`'s live state is unpacked once when read (``read(_:)``) and refused there if damaged.
            preconditionFailure("a remembered session does not unpack: \(error)")
        }
    }

    /// - Throws: ``NormalizedRecordError`` naming the offset within `raw`.
    private static func unpack(_ raw: UnsafeRawBufferPointer) throws(NormalizedRecordError) -> Session {
        var r = NormalizedRecordReader(raw, path: source, remedy: "the row is damaged")
        func int(_ v: UInt64) -> Int { Int(Int64(bitPattern: v)) }
        let id = try r.string()
        var paths: [String] = []
        var previous: [UInt8] = []
        for _ in 0..<(try r.count()) {
            let shared = try r.varint()
            guard shared <= UInt64(previous.count) else {
                throw NormalizedRecordError(
                    code: .malformed, path: source, offset: r.at,
                    message: "a path shares more than the one before has; the row is damaged")
            }
            let path = Array(previous.prefix(Int(shared))) + Array(try r.string().utf8)
            paths.append(String(decoding: path, as: UTF8.self))
            previous = path
        }
        let provider = try r.provider()
        let account = try r.string()
        let resource = try r.string()
        let instanceType = try r.optionalString()
        let instanceCount = int(try r.varint())
        let start = try r.int64()
        let end = try r.int64()
        let open = try r.byte() == 1
        var regions: [String] = []
        for _ in 0..<(try r.count()) { regions.append(try r.string()) }
        var events: [UsageEvent] = []
        for _ in 0..<(try r.count()) {
            let action = try r.action()
            let time = try r.int64()
            let usageSeconds = Int64(bitPattern: try r.varint())
            let usageHours = Double(bitPattern: try r.uint64())
            let usageRecords = int(try r.varint())
            let path = try r.varint()
            guard path < UInt64(paths.count) else {
                throw NormalizedRecordError(
                    code: .malformed, path: source, offset: r.at,
                    message: "an event's path is not among the row's; the row is damaged")
            }
            var event = UsageEvent(
                provider: provider, action: action, time: time, accountID: account, resourceID: resource,
                instanceType: instanceType, instanceCount: instanceCount, eventID: "", eventName: "",
                usageSeconds: usageSeconds, usageHours: usageHours,
                origin: EventOrigin(path: paths[Int(path)], position: try r.position()))
            event.usageRecords = usageRecords
            events.append(event)
        }
        let launch = try r.varint()
        if launch > 0 {
            guard launch <= UInt64(events.count) else {
                throw NormalizedRecordError(
                    code: .malformed, path: source, offset: r.at,
                    message: "the launch is not among the events; the row is damaged")
            }
            let i = Int(launch) - 1
            events[i].principal = try r.optionalString()
            events[i].sourceIP = try r.byte() != 0 ? IPAddress(value: try r.uint128()) : nil
            events[i].eventName = try r.string()
        }
        guard r.at == raw.count else {
            throw NormalizedRecordError(
                code: .malformed, path: source, offset: r.at,
                message: "\(raw.count - r.at) byte(s) after the session; the row is damaged")
        }
        return Session(
            id: id, provider: provider, accountID: account, resourceID: resource, instanceType: instanceType,
            instanceCount: instanceCount, start: start, end: end, open: open, regions: regions, events: events)
    }

    /// Writes the packed form (``read(_:)`` takes it back).
    func write(_ w: inout NormalizedRecordWriter) {
        w.count(bytes.count)
        w.bytes += bytes
    }

    /// Reads one ``write(_:)`` wrote, checking that it unpacks.
    ///
    /// - Throws: ``NormalizedRecordError`` naming the offset within the row.
    static func read(_ r: inout NormalizedRecordReader) throws(NormalizedRecordError) -> RememberedSession {
        let length = try r.count()
        let at = r.at
        let packed = try r.bytes(length)
        let session: Session
        do throws(NormalizedRecordError) {
            session = try unpack(packed)
        } catch {
            var fault = error
            fault.offset += at
            throw fault
        }
        return RememberedSession(session, bytes: Array(packed))
    }

    /// `session` unpacked from `bytes`.
    private init(_ session: Session, bytes: [UInt8]) {
        self.end = session.end
        self.provider = session.provider
        self.start = session.start
        self.bytes = bytes
    }
}
