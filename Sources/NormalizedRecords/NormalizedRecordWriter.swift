import LogFormats
public import UsageModel

/// Writes a ``NormalizedInput`` as the compact binary of `chiptrail normalize` (format version 3).
///
/// Layout, little-endian throughout; `str` is a LEB128 length and UTF-8 bytes, `str?` the length + 1
/// with 0 for nil; counts are LEB128:
///
/// ```
/// magic "CTNORM\0\x03" (8 bytes: name and version)
/// name str, failed u8, storedBytes i64, decodedBytes i64
/// ledger identity: fingerprint str? (nil: a file), then size i64 when present (version 2)
/// recordsRead, recordsRejected, documentsSkipped, diagnosticsSuppressed: LEB128 each
/// diagnostics: count, then path str, position, severity u8, category str, message str
/// accountNames, identifierNames: count, then key u64, text str (the table's own order)
/// events: count, then per UsageEvent: provider u8, action u8, time i64, accountID str, resourceID str,
///     instanceType str?, instanceCount i64, region str, sourceIP (u8 flag, u128), principal str?,
///     userAgent str?, eventID str, eventName str, usageSeconds i64, usageHours f64 bits,
///     usageRecords i64, origin path str? (nil: the input's name), origin position
/// calls: count, then 68 bytes each (``callBytes``): accountKey, eventKey u64, time i64, sourceIP u128, country u16,
///     flags u8 (1 has address, 2 sign-in, 4 machine, 8 CloudShell: version 3),
///     agentKey, accessKeyKey, principalKey u64,
///     then the anonymising network u8 (``AnonymousNetwork``'s bits; 0 without `--ip-intel`, and in files
///     written before it, where the byte was padding)
/// position: tag u8 (0 file, 1 line, 2 line+column, 3 offset), then i64 values as the tag says
/// ```
///
/// Fixed-width values are copied as bytes, strings as their UTF-8 bytes: no JSON, no formatting of
/// numbers. A file holds one input; `ingest --normalized` reads such files in name order.
public struct NormalizedRecordWriter {
    /// The format's magic bytes: "CTNORM", a zero, and the version.
    public static let magic: [UInt8] = [0x43, 0x54, 0x4E, 0x4F, 0x52, 0x4D, 0x00, 0x03]

    /// The bytes of one call: 8 + 8 + 8 + 16 + 2 + 1 + 8 + 8 + 8 + 1 (the anonymising network).
    public static let callBytes = 68

    public var bytes: [UInt8] = []

    public init() {}

    /// The bytes of `input` in the format above.
    /// - Complexity: O(records + their text).
    public static func encode(_ input: NormalizedInput) -> [UInt8] {
        var w = NormalizedRecordWriter()
        let batch = input.batch
        let lines = batch.usageLines
        w.bytes.reserveCapacity(
            64 + batch.calls.count * Self.callBytes + (batch.events.count + lines.count) * 160)
        w.bytes += magic
        w.string(input.name)
        w.byte(input.failed ? 1 : 0)
        w.int64(input.storedBytes)
        w.int64(input.decodedBytes)
        w.optionalString(input.ledgerIdentity?.fingerprint)
        if let identity = input.ledgerIdentity { w.int64(identity.size) }
        w.count(batch.recordsRead)
        w.count(batch.recordsRejected)
        w.count(batch.documentsSkipped)
        w.count(batch.diagnosticsSuppressed)
        w.count(batch.diagnostics.count)
        for d in batch.diagnostics {
            w.string(d.path)
            w.position(d.position)
            w.byte(d.severity == .note ? 0 : d.severity == .warning ? 1 : 2)
            w.string(d.category)
            w.string(d.message)
        }
        for table in [batch.accountNames, batch.identifierNames] {
            w.count(table.count)
            table.forEach { key, text in
                w.uint64(key)
                w.string(text)
            }
        }
        // The billing lines as events, after the others: read back, the merge takes them in the same order.
        w.count(batch.events.count + lines.count)
        for e in batch.events { w.event(e, inputName: input.name) }
        for i in lines.indices { w.event(lines.event(at: i), inputName: input.name) }
        w.count(batch.calls.count)
        for c in batch.calls { w.call(c) }
        return w.bytes
    }

    /// One event; its origin's path is left out when it is `inputName`.
    public mutating func event(_ e: UsageEvent, inputName: String) {
        provider(e.provider)
        action(e.action)
        int64(e.time)
        string(e.accountID)
        string(e.resourceID)
        optionalString(e.instanceType)
        int64(Int64(e.instanceCount))
        string(e.region)
        if let ip = e.sourceIP {
            byte(1)
            uint128(ip.value)
        } else {
            byte(0)
        }
        optionalString(e.principal)
        optionalString(e.userAgent)
        string(e.eventID)
        string(e.eventName)
        int64(e.usageSeconds)
        uint64(e.usageHours.bitPattern)
        int64(Int64(e.usageRecords))
        optionalString(e.origin.path == inputName ? nil : e.origin.path)
        position(e.origin.position)
    }

    mutating func call(_ c: CallObservation) {
        uint64(c.accountKey)
        uint64(c.eventKey)
        int64(c.time)
        uint128(c.sourceIP?.value ?? 0)
        withUnsafeBytes(of: c.country.raw.littleEndian) { bytes.append(contentsOf: $0) }
        byte((c.sourceIP != nil ? 1 : 0) | (c.isSignIn ? 2 : 0) | (c.isMachine ? 4 : 0) | (c.isCloudShell ? 8 : 0))
        uint64(c.agentKey)
        uint64(c.accessKeyKey)
        uint64(c.principalKey)
        byte(c.network.rawValue)
    }

    /// A provider in one byte.
    package mutating func provider(_ p: CloudProvider) {
        let tag: UInt8 =
            switch p {
            case .aws: 0
            case .gcp: 1
            case .azure: 2
            case .oci: 3
            case .other: 4
            }
        byte(tag)
    }

    /// An action in one byte.
    package mutating func action(_ a: ComputeAction) {
        let tag: UInt8 =
            switch a {
            case .launch: 0
            case .start: 1
            case .stop: 2
            case .terminate: 3
            case .usage: 4
            case .failed: 5
            }
        byte(tag)
    }

    /// An origin's position in its input: a tag, then its numbers.
    package mutating func position(_ p: InputPosition) {
        switch p {
        case .file: byte(0)
        case .line(let line):
            byte(1)
            int64(Int64(line))
        case .lineColumn(let line, let column):
            byte(2)
            int64(Int64(line))
            int64(column)
        case .offset(let offset):
            byte(3)
            int64(offset)
        }
    }

    @inline(__always) public mutating func byte(_ b: UInt8) { bytes.append(b) }

    /// Eight bytes, little-endian.
    @inline(__always) package mutating func uint64(_ v: UInt64) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    @inline(__always) public mutating func int64(_ v: Int64) { uint64(UInt64(bitPattern: v)) }

    /// Sixteen bytes, little-endian, low half first.
    @inline(__always) package mutating func uint128(_ v: UInt128) {
        uint64(UInt64(truncatingIfNeeded: v))
        uint64(UInt64(truncatingIfNeeded: v >> 64))
    }

    /// A LEB128 unsigned number.
    @inline(__always) package mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    @inline(__always) public mutating func count(_ n: Int) { varint(UInt64(max(0, n))) }

    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    public mutating func optionalString(_ s: String?) {
        guard var s else {
            byte(0)
            return
        }
        s.withUTF8 { utf8 in
            varint(UInt64(utf8.count) + 1)
            bytes.append(contentsOf: utf8)
        }
    }
}
