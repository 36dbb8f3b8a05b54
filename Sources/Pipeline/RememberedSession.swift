import NormalizedRecords
import Sessions
import UsageModel

/// A closed restricted session kept for look-back, in what assessing it again and an alert of it read.
///
/// A session held as ``Session`` keeps every event whole: its id, caller, user agent and name as strings
/// of their own (a two-event session of the 20,000-account world ~1.4 KB). Look-back keeps up to
/// `lookback_sessions` of them an account, so those bytes were the detector's largest state there. This
/// form keeps, packed: the session's own fields; every event's action, time, billed seconds, hours and
/// records, and origin (its path once per session, as the string the input gave: shared, not copied);
/// and of its first launch or start, who made it, from where and by which call (the `sources` evidence).
/// Event ids, user agents, regions and the other events' callers are left out: nothing reads them again.
///
/// ```swift
/// let kept = RememberedSession(session)
/// kept.session   // the session, its events holding what is kept
/// ```
struct RememberedSession: Sendable, Equatable {
    /// When the session ended: whether it is still within `lookback_days`.
    let end: EpochSeconds
    /// The packed fields (see ``init(_:)``).
    private let bytes: [UInt8]
    /// The events' input paths, each once, in order of first use.
    private let paths: [String]

    /// How errors name a damaged one (a row of `tail`'s live state).
    static let source = "a look-back row"

    init(_ session: Session) {
        var paths: [String] = []
        var w = NormalizedRecordWriter()
        w.bytes.reserveCapacity(128 + session.events.count * 32)
        w.string(session.id)
        w.provider(session.provider)
        w.string(session.accountID)
        w.string(session.resourceID)
        w.optionalString(session.instanceType)
        w.count(session.instanceCount)
        w.int64(session.start)
        w.int64(session.end)
        w.byte(session.open ? 1 : 0)
        w.count(session.regions.count)
        for region in session.regions { w.string(region) }
        let launch = session.events.firstIndex { $0.action == .launch || $0.action == .start }
        w.count(session.events.count)
        for event in session.events {
            w.action(event.action)
            w.int64(event.time)
            w.varint(UInt64(bitPattern: event.usageSeconds))
            w.uint64(event.usageHours.bitPattern)
            w.count(event.usageRecords)
            // Paths are few a session (its launch's file, its stop's, its billing lines').
            let path = paths.lastIndex(of: event.origin.path) ?? paths.count
            if path == paths.count { paths.append(event.origin.path) }
            w.count(path)
            w.position(event.origin.position)
        }
        if let launch {
            let event = session.events[launch]
            w.count(launch + 1)
            w.optionalString(event.principal)
            if let ip = event.sourceIP {
                w.byte(1)
                w.uint128(ip.value)
            } else {
                w.byte(0)
            }
            w.string(event.eventName)
        } else {
            w.count(0)
        }
        self.end = session.end
        self.bytes = w.bytes
        self.paths = paths
    }

    /// Whether this is the session `id` (without unpacking it).
    func isSession(_ id: String) -> Bool {
        var id = id
        return id.withUTF8 { utf8 in
            // The id comes first, its length as one byte (ids are short).
            guard utf8.count < 0x80, bytes.count > utf8.count, bytes[0] == UInt8(utf8.count) else { return false }
            return bytes[1...utf8.count].elementsEqual(utf8)
        }
    }

    /// The session, its events holding what is kept (the others' fields empty).
    var session: Session {
        do {
            return try bytes.withUnsafeBytes { raw throws(NormalizedRecordError) -> Session in
                try Self.unpack(raw, paths: paths)
            }
        } catch {
            // Only bytes this type packed are unpacked (a checkpoint's are checked when read).
            preconditionFailure("a remembered session does not unpack: \(error)")
        }
    }

    private static func unpack(_ raw: UnsafeRawBufferPointer, paths: [String]) throws(NormalizedRecordError) -> Session
    {
        var r = NormalizedRecordReader(raw, path: source, remedy: "move the store aside")
        let id = try r.string()
        let provider = try r.provider()
        let account = try r.string()
        let resource = try r.string()
        let instanceType = try r.optionalString()
        let instanceCount = try r.count()
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
            let usageRecords = try r.count()
            let path = try r.count()
            guard path < paths.count else {
                throw NormalizedRecordError(
                    code: .malformed, path: source, offset: r.at, message: "an event's path is not among the row's")
            }
            var event = UsageEvent(
                provider: provider, action: action, time: time, accountID: account, resourceID: resource,
                instanceType: instanceType, instanceCount: instanceCount, eventID: "", eventName: "",
                usageSeconds: usageSeconds, usageHours: usageHours,
                origin: EventOrigin(path: paths[path], position: try r.position()))
            event.usageRecords = usageRecords
            events.append(event)
        }
        let launch = try r.count()
        if launch > 0 {
            guard launch <= events.count else {
                throw NormalizedRecordError(
                    code: .malformed, path: source, offset: r.at, message: "the launch is not among the events")
            }
            events[launch - 1].principal = try r.optionalString()
            events[launch - 1].sourceIP = try r.byte() != 0 ? IPAddress(value: try r.uint128()) : nil
            events[launch - 1].eventName = try r.string()
        }
        guard r.at == raw.count else {
            throw NormalizedRecordError(
                code: .malformed, path: source, offset: r.at, message: "\(raw.count - r.at) byte(s) after the session")
        }
        return Session(
            id: id, provider: provider, accountID: account, resourceID: resource, instanceType: instanceType,
            instanceCount: instanceCount, start: start, end: end, open: open, regions: regions, events: events)
    }

    /// Writes the packed form (``read(_:)`` takes it back).
    func write(_ w: inout NormalizedRecordWriter) {
        w.count(paths.count)
        for path in paths { w.string(path) }
        w.count(bytes.count)
        w.bytes += bytes
    }

    /// Reads one ``write(_:)`` wrote, checking that it unpacks.
    static func read(_ r: inout NormalizedRecordReader) throws(NormalizedRecordError) -> RememberedSession {
        var paths: [String] = []
        for _ in 0..<(try r.count()) { paths.append(try r.string()) }
        let packed = try r.bytes(try r.count())
        let session = try unpack(packed, paths: paths)
        return RememberedSession(end: session.end, bytes: Array(packed), paths: paths)
    }

    private init(end: EpochSeconds, bytes: [UInt8], paths: [String]) {
        self.end = end
        self.bytes = bytes
        self.paths = paths
    }
}
