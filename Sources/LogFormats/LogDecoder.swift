import UsageModel

/// A streaming decoder of one input: fed consecutive buffers, it returns how much it consumed and
/// keeps the rest for the next call.
public protocol LogDecoder {
    /// Decodes every complete record in `buffer`; returns the bytes consumed.
    mutating func decode(_ buffer: UnsafeRawBufferPointer, isFinal: Bool, into output: inout DecodedBatch) -> Int
    /// Skips the record that does not fit the largest buffer.
    mutating func skipOversizedRecord()
    /// Whether the decoder gave up on the input (an unreadable header): stop feeding it.
    var refused: Bool { get }
    /// Numbers what follows as the rest of a file read from byte `offset`, after `lines` line ends (a
    /// followed file resumed where the last read stopped). Called before the first `decode`.
    mutating func resume(afterLines lines: Int, offset: Int64)
}

extension CloudTrailDecoder: LogDecoder {
    public var refused: Bool { false }
}

extension BillingDecoder: LogDecoder {
    /// A CSV export is always read whole, from its header (`tail` follows JSON lines only): nothing to do.
    public mutating func resume(afterLines lines: Int, offset: Int64) {}
}

/// A JSON-records decoder for any ``JSONRecordHandler``.
public struct JSONLogDecoder: LogDecoder {
    enum Framer {
        case gcp(JSONRecordFramer<GCPAuditRecordHandler>)
        case azure(JSONRecordFramer<AzureActivityRecordHandler>)
        case ndjson(JSONRecordFramer<EventLineRecordHandler>)
    }

    var framer: Framer
    public var refused: Bool { false }

    /// GCP Cloud Audit Logs (LogEntry with an AuditLog `protoPayload`), one per line or in arrays.
    public static func gcpAudit(path: String, maxRecordBytes: Int = 16 << 20) -> JSONLogDecoder {
        JSONLogDecoder(
            framer: .gcp(
                JSONRecordFramer(handler: GCPAuditRecordHandler(path: path), path: path, maxRecordBytes: maxRecordBytes)
            ))
    }

    /// Azure Activity Log: `{"records":[…]}`, one record per line (storage export), or REST API events.
    public static func azureActivity(path: String, maxRecordBytes: Int = 16 << 20) -> JSONLogDecoder {
        JSONLogDecoder(
            framer: .azure(
                JSONRecordFramer(
                    handler: AzureActivityRecordHandler(path: path), path: path, maxRecordBytes: maxRecordBytes)))
    }

    /// chiptrail NDJSON: one normalized event per line (README, "chiptrail NDJSON").
    public static func ndjson(path: String, maxRecordBytes: Int = 16 << 20) -> JSONLogDecoder {
        JSONLogDecoder(
            framer: .ndjson(
                JSONRecordFramer(
                    handler: EventLineRecordHandler(path: path), path: path, maxRecordBytes: maxRecordBytes)))
    }

    public mutating func decode(_ buffer: UnsafeRawBufferPointer, isFinal: Bool, into output: inout DecodedBatch) -> Int
    {
        switch framer {
        case .gcp(var f):
            let n = f.decode(buffer, isFinal: isFinal, into: &output)
            framer = .gcp(f)
            return n
        case .azure(var f):
            let n = f.decode(buffer, isFinal: isFinal, into: &output)
            framer = .azure(f)
            return n
        case .ndjson(var f):
            let n = f.decode(buffer, isFinal: isFinal, into: &output)
            framer = .ndjson(f)
            return n
        }
    }

    public mutating func resume(afterLines lines: Int, offset: Int64) {
        switch framer {
        case .gcp(var f):
            f.resume(afterLines: lines, offset: offset)
            framer = .gcp(f)
        case .azure(var f):
            f.resume(afterLines: lines, offset: offset)
            framer = .azure(f)
        case .ndjson(var f):
            f.resume(afterLines: lines, offset: offset)
            framer = .ndjson(f)
        }
    }

    public mutating func skipOversizedRecord() {
        switch framer {
        case .gcp(var f):
            f.skipOversizedRecord()
            framer = .gcp(f)
        case .azure(var f):
            f.skipOversizedRecord()
            framer = .azure(f)
        case .ndjson(var f):
            f.skipOversizedRecord()
            framer = .ndjson(f)
        }
    }
}

extension JSONScanner {
    /// Reads a scalar member value into `target`: strings give their content, `null` an empty span,
    /// containers their whole extent.
    @inline(__always)
    mutating func read(_ target: inout ByteSpan) -> Bool {
        var span = ByteSpan.empty
        guard skipValue(&span) else { return false }
        if span.count == 4 && equals(span, "null") && (span.start == 0 || base[span.start - 1] != 0x22) {
            target = .empty
        } else {
            target = span
        }
        return true
    }

    /// Skips a member value.
    @inline(__always)
    mutating func skip() -> Bool {
        var span = ByteSpan.empty
        return skipValue(&span)
    }

    /// The part of a string after its last `/` (`…/machineTypes/a3-highgpu-8g` → `a3-highgpu-8g`).
    func lastPathComponent(_ span: ByteSpan) -> String {
        var i = span.end
        while i > span.start && base[i - 1] != 0x2F { i -= 1 }
        return string(ByteSpan(start: i, end: span.end))
    }

    /// Whether `span` ends with `literal`, ignoring ASCII case.
    func hasSuffixIgnoringCase(_ span: ByteSpan, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard span.count >= n else { return false }
        for k in 0..<n where base[span.end - n + k] | 0x20 != literal.utf8Start[k] | 0x20 { return false }
        return true
    }
}
