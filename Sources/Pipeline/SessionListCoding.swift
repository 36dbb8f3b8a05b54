import Foundation
import NormalizedRecords
import Sessions
import UsageModel

/// The compact form of the sessions an account keeps for look-back (a row of `tail`'s live state).
///
/// Those sessions are most of a checkpoint's bytes (their lifecycle and billing events, each with its
/// origin), and the Codable checkpoint form writes every member's key beside its value. This form is
/// positional and codes each event as `chiptrail normalize` does (``NormalizedRecordWriter``), its
/// origin's path left out when it is the previous event's. Rows start with ``magic``; rows of earlier
/// versions (Codable, starting with `CTCK`) are still read.
///
/// ```swift
/// let bytes = SessionListCoding.encode(sessions)
/// let back = try SessionListCoding.decode(bytes)   // == sessions
/// ```
enum SessionListCoding {
    static let magic: [UInt8] = Array("CTLB".utf8) + [1]

    static func isCompact(_ data: Data) -> Bool { data.starts(with: magic) }

    /// How errors name a row.
    static let source = "a look-back row"

    static func encode(_ sessions: [Session]) -> Data {
        var w = NormalizedRecordWriter()
        w.bytes.reserveCapacity(64 + sessions.count * 512)
        w.bytes += magic
        w.count(sessions.count)
        for s in sessions {
            w.string(s.id)
            w.string(s.provider.rawValue)
            w.string(s.accountID)
            w.string(s.resourceID)
            w.optionalString(s.instanceType)
            w.int64(Int64(s.instanceCount))
            w.int64(s.start)
            w.int64(s.end)
            w.byte(s.open ? 1 : 0)
            w.count(s.regions.count)
            for r in s.regions { w.string(r) }
            w.count(s.events.count)
            var path = ""
            for e in s.events {
                w.event(e, inputName: path)
                path = e.origin.path
            }
        }
        return Data(w.bytes)
    }

    /// - Throws: ``NormalizedRecordError`` when the bytes end early or hold an unknown code.
    static func decode(_ data: Data) throws -> [Session] {
        try data.withUnsafeBytes { raw throws(NormalizedRecordError) -> [Session] in
            var r = NormalizedRecordReader(raw, path: source, remedy: "move the store aside")
            guard raw.starts(with: magic) else {
                throw NormalizedRecordError(
                    code: .notNormalized, path: source, offset: 0, message: "not a compact session list")
            }
            for _ in magic { _ = try r.byte() }
            var sessions: [Session] = []
            for _ in 0..<(try r.count()) {
                let id = try r.string()
                let providerName = try r.string()
                guard let provider = CloudProvider(rawValue: providerName) else {
                    throw NormalizedRecordError(
                        code: .malformed, path: source, offset: r.at, message: "unknown provider \(providerName)")
                }
                let account = try r.string()
                let resource = try r.string()
                let instanceType = try r.optionalString()
                let instanceCount = Int(try r.int64())
                let start = try r.int64()
                let end = try r.int64()
                let open = try r.byte() == 1
                var regions: [String] = []
                for _ in 0..<(try r.count()) { regions.append(try r.string()) }
                var events: [UsageEvent] = []
                var path = ""
                for _ in 0..<(try r.count()) {
                    let event = try r.event(inputName: path)
                    path = event.origin.path
                    events.append(event)
                }
                sessions.append(
                    Session(
                        id: id, provider: provider, accountID: account, resourceID: resource,
                        instanceType: instanceType,
                        instanceCount: instanceCount, start: start, end: end, open: open, regions: regions,
                        events: events))
            }
            guard r.at == raw.count else {
                throw NormalizedRecordError(
                    code: .malformed, path: source, offset: r.at,
                    message: "\(raw.count - r.at) byte(s) after the last session")
            }
            return sessions
        }
    }
}
