import Foundation
import NormalizedRecords
import Sessions
import UsageModel

/// The form of the sessions an account keeps for look-back (a row of `tail`'s live state).
///
/// Rows start with ``magic``: a count, then each ``RememberedSession`` packed as it is held. Rows of
/// earlier versions are still read: version 1 (whole sessions, each event coded as `chiptrail normalize`
/// does, ``encodeWholeSessions(_:)``) and Codable ones (starting with `CTCK`), each session kept as
/// look-back keeps it.
///
/// ```swift
/// let bytes = SessionListCoding.encode(kept)
/// let back = try SessionListCoding.decode(bytes)   // == kept
/// ```
enum SessionListCoding {
    static let magic: [UInt8] = Array("CTLB".utf8) + [2]
    /// Version 1's.
    static let wholeSessionsMagic: [UInt8] = Array("CTLB".utf8) + [1]

    /// Whether the row is of this form, any version (Codable rows start otherwise).
    static func isCompact(_ data: Data) -> Bool { data.starts(with: magic.prefix(4)) }

    /// How errors name a row.
    static let source = "a look-back row"

    static func encode(_ sessions: [RememberedSession]) -> Data {
        var w = NormalizedRecordWriter()
        w.bytes += magic
        w.count(sessions.count)
        for s in sessions { s.write(&w) }
        return Data(w.bytes)
    }

    /// - Throws: ``NormalizedRecordError`` when the bytes end early or hold an unknown code.
    static func decode(_ data: Data) throws -> [RememberedSession] {
        if data.starts(with: wholeSessionsMagic) { return try decodeWholeSessions(data).map(RememberedSession.init) }
        return try data.withUnsafeBytes {
            (raw: UnsafeRawBufferPointer) throws(NormalizedRecordError) -> [RememberedSession] in
            var r = NormalizedRecordReader(raw, path: source, remedy: "the row is damaged")
            guard raw.starts(with: magic.prefix(4)) else {
                throw NormalizedRecordError(
                    code: .notNormalized, path: source, offset: 0, message: "not a compact session list")
            }
            guard raw.starts(with: magic) else {
                throw NormalizedRecordError(
                    code: .unsupportedVersion, path: source, offset: magic.count - 1,
                    message:
                        "look-back row version \(raw.count >= magic.count ? raw[magic.count - 1] : 0) is not one this chiptrail reads (written by a later version?)"
                )
            }
            for _ in magic { _ = try r.byte() }
            var sessions: [RememberedSession] = []
            for n in 0..<(try r.count()) {
                do throws(NormalizedRecordError) {
                    sessions.append(try RememberedSession.read(&r))
                } catch {
                    var fault = error
                    fault.message = "session \(n + 1) of the row: " + fault.message
                    throw fault
                }
            }
            guard r.at == raw.count else {
                throw NormalizedRecordError(
                    code: .malformed, path: source, offset: r.at,
                    message: "\(raw.count - r.at) byte(s) after the last session")
            }
            return sessions
        }
    }

    /// Version 1: whole sessions (written by earlier versions; here for their tests).
    static func encodeWholeSessions(_ sessions: [Session]) -> Data {
        var w = NormalizedRecordWriter()
        w.bytes.reserveCapacity(64 + sessions.count * 512)
        w.bytes += wholeSessionsMagic
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

    private static func decodeWholeSessions(_ data: Data) throws -> [Session] {
        try data.withUnsafeBytes { raw throws(NormalizedRecordError) -> [Session] in
            var r = NormalizedRecordReader(raw, path: source, remedy: "the row is damaged")
            for _ in wholeSessionsMagic { _ = try r.byte() }
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
