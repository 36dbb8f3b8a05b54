import Foundation
import Sessions
public import UsageModel

/// The compact form of the sessions an account keeps for look-back (a row of `tail`'s live state).
///
/// Those sessions are most of a checkpoint's bytes (their lifecycle and billing events, each with its
/// origin), and the Codable checkpoint form writes every member's key beside its value. This form is
/// positional: a session's fields, then its events, each event's strings written only where they differ
/// from the previous event's (a bit per string field says "as before"), a path as the prefix it shares
/// with the last path written and the rest, numbers as little-endian bytes.
/// Rows start with ``magic``; rows of earlier versions (Codable, starting with `CTCK`) are still read.
///
/// ```swift
/// let bytes = SessionListCoding.encode(sessions)
/// let back = try SessionListCoding.decode(bytes)   // == sessions
/// ```
enum SessionListCoding {
    static let magic: [UInt8] = Array("CTLB".utf8) + [1]

    static func isCompact(_ data: Data) -> Bool { data.starts(with: magic) }

    /// The string fields of an event that may repeat the previous event's value, in bit order.
    private enum Field: Int, CaseIterable {
        case account, resource, instanceType, region, principal, userAgent, eventName, path
    }

    static func encode(_ sessions: [Session]) -> Data {
        var w = ByteWriter()
        w.bytes.reserveCapacity(64 + sessions.count * 512)
        w.bytes += magic
        w.int(sessions.count)
        for s in sessions {
            w.string(s.id)
            w.byte(providerCode(s.provider))
            w.string(s.accountID)
            w.string(s.resourceID)
            w.optional(s.instanceType)
            w.int(s.instanceCount)
            w.int64(s.start)
            w.int64(s.end)
            w.byte(s.open ? 1 : 0)
            w.int(s.regions.count)
            for r in s.regions { w.string(r) }
            w.int(s.events.count)
            var previous: [String?] = Array(repeating: nil, count: Field.allCases.count)
            var first = true
            for e in s.events {
                let values: [String?] = [
                    e.accountID, e.resourceID, e.instanceType, e.region, e.principal, e.userAgent, e.eventName,
                    e.origin.path,
                ]
                var same: UInt16 = 0
                if !first {
                    for i in values.indices where values[i] == previous[i] { same |= 1 << UInt16(i) }
                }
                w.uint16(same)
                for i in values.indices where same & (1 << UInt16(i)) == 0 {
                    if i == Field.path.rawValue {
                        w.path(e.origin.path)
                    } else {
                        w.optional(values[i])
                    }
                }
                previous = values
                first = false
                w.byte(providerCode(e.provider))
                w.byte(actionCode(e.action))
                w.int64(e.time)
                w.int(e.instanceCount)
                if let ip = e.sourceIP {
                    w.byte(1)
                    w.uint64(UInt64(truncatingIfNeeded: ip.value))
                    w.uint64(UInt64(truncatingIfNeeded: ip.value >> 64))
                } else {
                    w.byte(0)
                }
                w.string(e.eventID)
                w.int64(e.usageSeconds)
                w.uint64(e.usageHours.bitPattern)
                w.int(e.usageRecords)
                switch e.origin.position {
                case .file: w.byte(0)
                case .line(let line):
                    w.byte(1)
                    w.int(line)
                case .lineColumn(let line, let column):
                    w.byte(2)
                    w.int(line)
                    w.int64(column)
                case .offset(let offset):
                    w.byte(3)
                    w.int64(offset)
                }
            }
        }
        return Data(w.bytes)
    }

    /// - Throws: ``SessionListCoding/Malformed`` when the bytes end early or hold an unknown code.
    static func decode(_ data: Data) throws -> [Session] {
        let bytes = [UInt8](data)
        var r = ByteReader(bytes: bytes, at: magic.count)
        guard bytes.starts(with: magic) else { throw Malformed(reason: "not a compact session list") }
        let count = try r.count()
        var sessions: [Session] = []
        sessions.reserveCapacity(count)
        for _ in 0..<count {
            let id = try r.string()
            let provider = try Self.provider(r.byte())
            let account = try r.string()
            let resource = try r.string()
            let instanceType = try r.optional()
            let instanceCount = try r.int()
            let start = try r.int64()
            let end = try r.int64()
            let open = try r.byte() == 1
            var regions: [String] = []
            for _ in 0..<(try r.count()) { regions.append(try r.string()) }
            let eventCount = try r.count()
            var events: [UsageEvent] = []
            events.reserveCapacity(eventCount)
            var previous: [String?] = Array(repeating: nil, count: Field.allCases.count)
            for _ in 0..<eventCount {
                let same = try r.uint16()
                var values = previous
                for i in values.indices where same & (1 << UInt16(i)) == 0 {
                    values[i] = i == Field.path.rawValue ? try r.path() : try r.optional()
                }
                previous = values
                let eventProvider = try Self.provider(r.byte())
                let action = try Self.action(r.byte())
                let time = try r.int64()
                let count = try r.int()
                var ip: IPAddress?
                if try r.byte() == 1 {
                    let low = try r.uint64()
                    let high = try r.uint64()
                    ip = IPAddress(value: UInt128(high) << 64 | UInt128(low))
                }
                let eventID = try r.string()
                let usageSeconds = try r.int64()
                let usageHours = Double(bitPattern: try r.uint64())
                let usageRecords = try r.int()
                let position: InputPosition
                switch try r.byte() {
                case 0: position = .file
                case 1: position = .line(try r.int())
                case 2: position = .lineColumn(try r.int(), try r.int64())
                case 3: position = .offset(try r.int64())
                case let code: throw Malformed(reason: "position code \(code)")
                }
                guard let accountID = values[Field.account.rawValue], let resourceID = values[Field.resource.rawValue],
                    let region = values[Field.region.rawValue], let eventName = values[Field.eventName.rawValue],
                    let path = values[Field.path.rawValue]
                else { throw Malformed(reason: "an event without its account, resource, region, name or path") }
                var event = UsageEvent(
                    provider: eventProvider, action: action, time: time, accountID: accountID, resourceID: resourceID,
                    instanceType: values[Field.instanceType.rawValue], instanceCount: count, region: region, sourceIP: ip,
                    principal: values[Field.principal.rawValue], userAgent: values[Field.userAgent.rawValue],
                    eventID: eventID, eventName: eventName, usageSeconds: usageSeconds, usageHours: usageHours,
                    origin: EventOrigin(path: path, position: position))
                event.usageRecords = usageRecords
                events.append(event)
            }
            sessions.append(
                Session(
                    id: id, provider: provider, accountID: account, resourceID: resource, instanceType: instanceType,
                    instanceCount: instanceCount, start: start, end: end, open: open, regions: regions, events: events))
        }
        guard r.at == bytes.count else { throw Malformed(reason: "\(bytes.count - r.at) byte(s) after the last session") }
        return sessions
    }

    struct Malformed: Error, CustomStringConvertible {
        var reason: String
        var description: String { "a compact session list: \(reason)" }
    }

    private static let providers = CloudProvider.allCases
    private static let actions: [ComputeAction] = [.launch, .start, .stop, .terminate, .usage, .failed]

    private static func providerCode(_ p: CloudProvider) -> UInt8 { UInt8(providers.firstIndex(of: p)!) }
    private static func provider(_ code: UInt8) throws -> CloudProvider {
        guard Int(code) < providers.count else { throw Malformed(reason: "provider code \(code)") }
        return providers[Int(code)]
    }
    private static func actionCode(_ a: ComputeAction) -> UInt8 { UInt8(actions.firstIndex(of: a)!) }
    private static func action(_ code: UInt8) throws -> ComputeAction {
        guard Int(code) < actions.count else { throw Malformed(reason: "action code \(code)") }
        return actions[Int(code)]
    }

    private struct ByteWriter {
        var bytes: [UInt8] = []
        mutating func byte(_ b: UInt8) { bytes.append(b) }
        mutating func uint16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        mutating func uint64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        mutating func int64(_ v: Int64) { uint64(UInt64(bitPattern: v)) }
        mutating func int(_ v: Int) { int64(Int64(v)) }
        mutating func string(_ s: String) {
            var s = s
            s.withUTF8 { utf8 in
                withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes += $0 }
                bytes += utf8
            }
        }
        /// The last path written: a path is written as the length of the prefix it shares with it and
        /// the rest (the files of one account share their folders).
        var lastPath: [UInt8] = []

        mutating func path(_ s: String) {
            let utf8 = Array(s.utf8)
            var shared = 0
            let limit = min(utf8.count, lastPath.count, Int(UInt16.max))
            while shared < limit && utf8[shared] == lastPath[shared] { shared += 1 }
            uint16(UInt16(shared))
            withUnsafeBytes(of: UInt32(utf8.count - shared).littleEndian) { bytes += $0 }
            bytes += utf8[shared...]
            lastPath = utf8
        }

        /// nil as length 0xFFFF_FFFF.
        mutating func optional(_ s: String?) {
            if let s { string(s) } else { withUnsafeBytes(of: UInt32.max.littleEndian) { bytes += $0 } }
        }
    }

    private struct ByteReader {
        let bytes: [UInt8]
        var at: Int

        mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, bytes.count - at >= n else { throw Malformed(reason: "ends at byte \(bytes.count), \(n) more expected at \(at)") }
            defer { at += n }
            return bytes[at..<(at + n)]
        }
        mutating func byte() throws -> UInt8 { try take(1).first! }
        mutating func little<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let slice = try take(MemoryLayout<T>.size)
            return slice.reversed().reduce(T.zero) { $0 << 8 | T($1) }
        }
        mutating func uint16() throws -> UInt16 { try little(UInt16.self) }
        mutating func uint64() throws -> UInt64 { try little(UInt64.self) }
        mutating func int64() throws -> Int64 { Int64(bitPattern: try uint64()) }
        mutating func int() throws -> Int { Int(try int64()) }
        mutating func count() throws -> Int {
            let n = try int()
            guard n >= 0, n <= bytes.count - at else { throw Malformed(reason: "a count of \(n) at byte \(at)") }
            return n
        }
        var lastPath: [UInt8] = []

        mutating func path() throws -> String {
            let shared = Int(try uint16())
            guard shared <= lastPath.count else { throw Malformed(reason: "a path prefix of \(shared) byte(s) at byte \(at)") }
            let rest = try take(Int(try little(UInt32.self)))
            lastPath = Array(lastPath[..<shared]) + rest
            return String(decoding: lastPath, as: UTF8.self)
        }

        mutating func optional() throws -> String? {
            let length = try little(UInt32.self)
            if length == UInt32.max { return nil }
            return String(decoding: try take(Int(length)), as: UTF8.self)
        }
        mutating func string() throws -> String {
            guard let s = try optional() else { throw Malformed(reason: "a missing string at byte \(at)") }
            return s
        }
    }
}
