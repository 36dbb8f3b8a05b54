import LogFormats
public import UsageModel

/// Reads back what ``NormalizedRecordWriter`` wrote: one ``NormalizedInput`` per file, every value as
/// it was, bounds-checked (a damaged file is an error naming its byte offset, never a crash).
public struct NormalizedRecordReader: ~Copyable {
    let base: UnsafeRawBufferPointer
    let path: String
    /// What a fault's message tells the reader to do.
    let remedy: String
    /// The next byte to read.
    public internal(set) var at = 0

    /// A reader of the format's values from `base` (also the look-back rows of `tail`'s live state,
    /// which code events the same way), `path` and `remedy` named in its errors.
    public init(_ base: UnsafeRawBufferPointer, path: String, remedy: String = "normalise the input again") {
        self.base = base
        self.path = path
        self.remedy = remedy
    }

    /// Decodes the bytes of one normalised file.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - path: the file's path, named in errors.
    /// - Throws: ``NormalizedRecordError`` when the bytes are not a whole file of this version.
    /// - Complexity: O(bytes).
    public static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws(NormalizedRecordError)
        -> NormalizedInput
    {
        var r = NormalizedRecordReader(bytes, path: path)
        return try r.input()
    }

    mutating func input() throws(NormalizedRecordError) -> NormalizedInput {
        let magic = NormalizedRecordWriter.magic
        guard base.count >= magic.count, base.prefix(6).elementsEqual(magic.prefix(6)) else {
            throw fault(
                .notNormalized,
                "not a file written by 'chiptrail normalize'; give ingest --normalized the output directory of normalize"
            )
        }
        guard base[6] == magic[6], base[7] == magic[7] else {
            throw fault(
                .unsupportedVersion,
                "normalised-records version \(base[7]) is not the version \(magic[7]) this chiptrail reads; normalise again with the same chiptrail binary"
            )
        }
        at = magic.count
        let name = try string()
        let failed = try byte() != 0
        let storedBytes = try int64()
        let decodedBytes = try int64()
        var ledgerIdentity: (size: Int64, fingerprint: String)? = nil
        if let fingerprint = try optionalString() { ledgerIdentity = (try int64(), fingerprint) }
        var batch = DecodedBatch()
        batch.recordsRead = Int(truncatingIfNeeded: try varint())
        batch.recordsRejected = Int(truncatingIfNeeded: try varint())
        batch.documentsSkipped = Int(truncatingIfNeeded: try varint())
        batch.diagnosticsSuppressed = Int(truncatingIfNeeded: try varint())
        let diagnostics = try count()
        batch.diagnostics.reserveCapacity(diagnostics)
        for _ in 0..<diagnostics {
            let path = try string()
            let position = try position()
            let severity: DiagnosticSeverity
            switch try byte() {
            case 0: severity = .note
            case 1: severity = .warning
            case 2: severity = .error
            default: throw fault(.malformed, "unknown diagnostic severity; the file is damaged, \(remedy)")
            }
            let category = try string()
            let message = try string()
            batch.diagnostics.append(
                Diagnostic(path: path, position: position, severity: severity, category: category, message: message))
        }
        batch.accountNames = try table()
        batch.identifierNames = try table()
        let events = try count()
        batch.events.reserveCapacity(events)
        for _ in 0..<events { batch.events.append(try event(inputName: name)) }
        let calls = try count()
        guard calls <= (base.count - at) / NormalizedRecordWriter.callBytes else {
            throw fault(.truncated, "the file ends inside its calls; normalise the input again")
        }
        batch.calls.reserveCapacity(calls)
        for _ in 0..<calls { batch.calls.append(call()) }
        guard at == base.count else {
            throw fault(.malformed, "\(base.count - at) byte(s) after the last call; the file is damaged, \(remedy)")
        }
        return NormalizedInput(
            name: name, failed: failed, storedBytes: storedBytes, decodedBytes: decodedBytes, batch: batch,
            ledgerIdentity: ledgerIdentity)
    }

    func fault(_ code: NormalizedRecordError.Code, _ message: String) -> NormalizedRecordError {
        NormalizedRecordError(code: code, path: path, offset: at, message: message)
    }

    mutating func table() throws(NormalizedRecordError) -> KeyTable<String> {
        let n = try count()
        var table = KeyTable<String>(capacity: max(8, n))
        for _ in 0..<n {
            let key = try uint64()
            _ = table.insert(key, try string())
        }
        return table
    }

    public mutating func event(inputName: String) throws(NormalizedRecordError) -> UsageEvent {
        let provider = try provider()
        let action = try action()
        let time = try int64()
        let accountID = try string()
        let resourceID = try string()
        let instanceType = try optionalString()
        let instanceCount = Int(try int64())
        let region = try string()
        let sourceIP = try byte() != 0 ? IPAddress(value: try uint128()) : nil
        let principal = try optionalString()
        let userAgent = try optionalString()
        let eventID = try string()
        let eventName = try string()
        let usageSeconds = try int64()
        let usageHours = Double(bitPattern: try uint64())
        let usageRecords = Int(try int64())
        let originPath = try optionalString() ?? inputName
        let position = try position()
        var event = UsageEvent(
            provider: provider, action: action, time: time, accountID: accountID, resourceID: resourceID,
            instanceType: instanceType, instanceCount: instanceCount, region: region, sourceIP: sourceIP,
            principal: principal, userAgent: userAgent, eventID: eventID, eventName: eventName,
            usageSeconds: usageSeconds, usageHours: usageHours,
            origin: EventOrigin(path: originPath, position: position))
        event.usageRecords = usageRecords
        return event
    }

    /// One call: ``NormalizedRecordWriter/callBytes`` bytes, bounds checked by the caller for the whole run of calls.
    mutating func call() -> CallObservation {
        let p = base.baseAddress! + at
        @inline(__always) func u64(_ o: Int) -> UInt64 {
            UInt64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self))
        }
        let ip = UInt128(u64(24)) | UInt128(u64(32)) << 64
        let country = UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 40, as: UInt16.self))
        let flags = p.load(fromByteOffset: 42, as: UInt8.self)
        let network = p.load(fromByteOffset: 67, as: UInt8.self)
        at += NormalizedRecordWriter.callBytes
        return CallObservation(
            accountKey: u64(0), eventKey: u64(8), time: Int64(bitPattern: u64(16)),
            sourceIP: flags & 1 != 0 ? IPAddress(value: ip) : nil, country: CountryCode(raw: country),
            isSignIn: flags & 2 != 0, agentKey: u64(43), accessKeyKey: u64(51), principalKey: u64(59),
            isMachine: flags & 4 != 0, network: AnonymousNetwork(listed: network), isCloudShell: flags & 8 != 0)
    }

    /// A provider, as ``NormalizedRecordWriter/provider(_:)`` codes it.
    package mutating func provider() throws(NormalizedRecordError) -> CloudProvider {
        switch try byte() {
        case 0: return .aws
        case 1: return .gcp
        case 2: return .azure
        case 3: return .oci
        case 4: return .other
        default: throw fault(.malformed, "unknown provider tag; the file is damaged, \(remedy)")
        }
    }

    /// An action, as ``NormalizedRecordWriter/action(_:)`` codes it.
    package mutating func action() throws(NormalizedRecordError) -> ComputeAction {
        switch try byte() {
        case 0: return .launch
        case 1: return .start
        case 2: return .stop
        case 3: return .terminate
        case 4: return .usage
        case 5: return .failed
        default: throw fault(.malformed, "unknown action tag; the file is damaged, \(remedy)")
        }
    }

    /// An origin's position in its input, as ``NormalizedRecordWriter/position(_:)`` codes it.
    package mutating func position() throws(NormalizedRecordError) -> InputPosition {
        switch try byte() {
        case 0: return .file
        case 1: return .line(Int(try int64()))
        case 2:
            let line = Int(try int64())
            return .lineColumn(line, try int64())
        case 3: return .offset(try int64())
        default: throw fault(.malformed, "unknown position tag; the file is damaged, \(remedy)")
        }
    }

    @inline(__always) mutating func need(_ n: Int) throws(NormalizedRecordError) {
        guard n <= base.count - at else {
            throw fault(.truncated, "the file ends inside a value; it was cut short, \(remedy)")
        }
    }

    @inline(__always) public mutating func byte() throws(NormalizedRecordError) -> UInt8 {
        try need(1)
        defer { at += 1 }
        return base[at]
    }

    /// Eight bytes, little-endian.
    @inline(__always) package mutating func uint64() throws(NormalizedRecordError) -> UInt64 {
        try need(8)
        defer { at += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }

    @inline(__always) public mutating func int64() throws(NormalizedRecordError) -> Int64 {
        Int64(bitPattern: try uint64())
    }

    /// Sixteen bytes, little-endian, low half first.
    @inline(__always) package mutating func uint128() throws(NormalizedRecordError) -> UInt128 {
        let low = try uint64()
        return UInt128(low) | UInt128(try uint64()) << 64
    }

    /// A LEB128 unsigned number (any value: unlike ``count()``, not checked against the bytes left).
    package mutating func varint() throws(NormalizedRecordError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else {
                throw fault(.malformed, "a number longer than 64 bits; the file is damaged, \(remedy)")
            }
            value |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return value }
            shift += 7
        }
    }

    /// A count or a length, at most the bytes left (every element takes at least one byte).
    public mutating func count() throws(NormalizedRecordError) -> Int {
        let v = try varint()
        guard v <= UInt64(base.count - at) else {
            throw fault(.truncated, "a count past the end of the file; it was cut short, \(remedy)")
        }
        return Int(v)
    }

    /// The next `n` bytes (valid while the buffer read is).
    package mutating func bytes(_ n: Int) throws(NormalizedRecordError) -> UnsafeRawBufferPointer {
        try need(n)
        defer { at += n }
        return UnsafeRawBufferPointer(rebasing: base[at..<(at + n)])
    }

    public mutating func string() throws(NormalizedRecordError) -> String {
        let n = try count()
        defer { at += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: base[at..<(at + n)]), as: UTF8.self)
    }

    public mutating func optionalString() throws(NormalizedRecordError) -> String? {
        let v = try varint()
        if v == 0 { return nil }
        guard v - 1 <= UInt64(base.count - at) else {
            throw fault(.truncated, "a text past the end of the file; it was cut short, \(remedy)")
        }
        let n = Int(v - 1)
        defer { at += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: base[at..<(at + n)]), as: UTF8.self)
    }
}
