#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Inputs
import LogFormats
import Ownership
import UsageModel

/// What reading one input produced.
struct FileResult: Sendable {
    var path: String
    var batch = DecodedBatch()
    /// The input could not be read to its end (gzip fault, cap, unreadable, refused format).
    var failed = false
    var storedBytes: Int64 = 0
    var decodedBytes: Int64 = 0
    /// The gzip stream ended before its trailer: perhaps still being written (`tail` retries it).
    var incomplete = false
    /// When following a plain file: the offset after the last complete record read, and the line ends
    /// before it (the rest, a line still being written, is left for the next read).
    var followedTo: IngestPipeline.FollowedPosition? = nil
}

/// Reads inputs one at a time into a reused buffer: decompress, sniff, decode, locate addresses.
/// One per reader thread.
final class FileProcessor {
    let options: IngestOptions
    let geo: GeoIPTable
    private var buffer: UnsafeMutableRawBufferPointer
    private static let readChunk = 128 << 10
    /// Calls and accounts in the previous input: the next batch reserves as many, so it does not regrow
    /// from empty.
    private var callsHint = 0
    private var accountsHint = 0
    /// How much of an input's head is looked at to tell its format.
    static let sniffBytes = 64 << 10

    struct Refusal: Error {
        var message: String
    }

    /// The decoder for an input: `--format`, or the content of its head. A refusal's message is empty
    /// when the head is only whitespace so far.
    func chooseDecoder(path: String, head: UnsafeRawBufferPointer) -> Result<any LogDecoder, Refusal> {
        let limit = options.maxRecordBytes
        let kind = ContentSniffer.sniff(head)
        switch kind {
        case .empty: return .failure(Refusal(message: ""))
        case .zip:
            return .failure(Refusal(message: "zip archive: chiptrail reads gzip'd or plain files; unzip it first"))
        case .binary:
            return .failure(
                Refusal(
                    message:
                        "binary data, not a log format chiptrail reads (CloudTrail, GCP audit, Azure activity, CUR, FOCUS, Azure cost, chiptrail NDJSON)"
                ))
        case .json, .csv, .unknown: break
        }
        switch options.format {
        case .cloudtrail: return .success(CloudTrailDecoder(path: path, maxRecordBytes: limit))
        case .gcpAudit: return .success(JSONLogDecoder.gcpAudit(path: path, maxRecordBytes: limit))
        case .azureActivity: return .success(JSONLogDecoder.azureActivity(path: path, maxRecordBytes: limit))
        case .ndjson: return .success(JSONLogDecoder.ndjson(path: path, maxRecordBytes: limit))
        case .cur:
            return .success(
                BillingDecoder(path: path, family: .cur, maxRecordBytes: limit, keepType: options.billingTypes))
        case .focus:
            return .success(
                BillingDecoder(path: path, family: .focus, maxRecordBytes: limit, keepType: options.billingTypes))
        case .azureCost:
            return .success(
                BillingDecoder(path: path, family: .azureCost, maxRecordBytes: limit, keepType: options.billingTypes))
        case .auto: break
        }
        switch kind {
        case .json:
            switch ContentSniffer.jsonFlavour(head) {
            case .cloudtrail: return .success(CloudTrailDecoder(path: path, maxRecordBytes: limit))
            case .gcpAudit: return .success(JSONLogDecoder.gcpAudit(path: path, maxRecordBytes: limit))
            case .azureActivity: return .success(JSONLogDecoder.azureActivity(path: path, maxRecordBytes: limit))
            case .ndjson: return .success(JSONLogDecoder.ndjson(path: path, maxRecordBytes: limit))
            case nil:
                return .failure(
                    Refusal(
                        message:
                            "JSON of no shape chiptrail reads: none of the keys of CloudTrail (eventSource, Records), GCP audit (protoPayload), Azure activity (operationName) or chiptrail NDJSON (account_id) in the first \(Self.sniffBytes >> 10) KiB; use --format to force one"
                    ))
            }
        case .csv:
            return .success(BillingDecoder(path: path, maxRecordBytes: limit, keepType: options.billingTypes))
        default:
            return .failure(
                Refusal(
                    message:
                        "unrecognised format (neither JSON nor CSV); chiptrail reads CloudTrail, GCP audit, Azure activity, CUR, FOCUS, Azure cost and chiptrail NDJSON"
                ))
        }
    }

    init(options: IngestOptions, geo: GeoIPTable) {
        self.options = options
        self.geo = geo
        buffer = .allocate(byteCount: 1 << 20, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// Reads one input; with `follow`, a plain (not gzip'd) JSON-lines file is read from `offset` and
    /// its last incomplete line is left for later (`followedTo`).
    /// - Parameter lines: the line ends before `offset`, so that records are numbered by the file's own
    ///   lines; nil when not known (a store written before they were kept): counted from the file.
    func process(_ path: String, from offset: Int64 = 0, lines: Int? = 0, follow: Bool = false) -> FileResult {
        if options.readsNormalized { return processNormalized(path) }
        var result = FileResult(path: path)
        result.batch.calls.reserveCapacity(callsHint)
        if accountsHint > 8 { result.batch.accountNames = KeyTable(capacity: accountsHint) }
        defer {
            callsHint = min(result.batch.calls.count, 1 << 20)
            accountsHint = min(result.batch.accountNames.count, 1 << 16)
        }
        let reader: InputReader
        do {
            if let opener = options.opener, let opened = try opener(path, options.limits) {
                reader = opened
            } else {
                reader = try InputReader(path: path, limits: options.limits)
            }
        } catch {
            result.failed = true
            result.batch.report(error.diagnostic)
            return result
        }
        var start = 0
        var end = 0
        var decoder: (any LogDecoder)? = nil
        var finished = false
        var consumedTotal: Int64 = 0
        var following = false
        // The line ends before `offset`, then those in the bytes consumed after it (counted when
        // following, and in leading whitespace dropped): where the decoder's line numbers start, and
        // where the next read resumes.
        var linesBefore = 0
        var linesConsumed = 0
        if offset > 0 {
            // A file shortened since cannot be counted: its records are then numbered from its offset.
            linesBefore = lines ?? reader.newlines(before: offset) ?? 0
            reader.skip(to: offset)
        }
        func countLines(_ count: Int) {
            var p = UnsafeRawPointer(buffer.baseAddress! + start)
            var left = count
            while left > 0, let hit = memchr(p, 0x0A, left) {
                linesConsumed += 1
                left -= UnsafeRawPointer(hit) - p + 1
                p = UnsafeRawPointer(hit) + 1
            }
        }
        func refuse(_ message: String) {
            result.failed = true
            result.batch.report(
                Diagnostic(path: path, position: .file, severity: .error, category: "format", message: message))
        }
        while !finished {
            // A record that stays incomplete past the limit is skipped; the reading goes on.
            if end - start >= options.maxRecordBytes, decoder != nil {
                decoder!.skipOversizedRecord()
                let consumed = decoder!.decode(
                    UnsafeRawBufferPointer(rebasing: buffer[start..<end]), isFinal: false, into: &result.batch)
                if follow { countLines(consumed) }
                consumedTotal += Int64(consumed)
                start += consumed
            }
            // Room for the next read: compact, or grow up to the largest record.
            if buffer.count - end < Self.readChunk {
                if start > 0 {
                    if end > start {
                        memmove(buffer.baseAddress!, buffer.baseAddress! + start, end - start)
                    }
                    end -= start
                    start = 0
                }
                if buffer.count - end < Self.readChunk {
                    let bigger = UnsafeMutableRawBufferPointer.allocate(
                        byteCount: max(buffer.count * 2, end + 2 * Self.readChunk), alignment: 64)
                    bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: end)
                    buffer.deallocate()
                    buffer = bigger
                }
            }
            let n: Int
            do {
                n = try reader.read(
                    into: UnsafeMutableRawBufferPointer(
                        rebasing: buffer[end..<min(buffer.count, end + 2 * Self.readChunk)]))
            } catch {
                result.failed = true
                if let e = error as? InputError, e.code == .truncated { result.incomplete = true }
                result.batch.report(error.diagnostic)
                // Decode what arrived before the fault, then stop.
                if decoder != nil {
                    _ = decoder!.decode(
                        UnsafeRawBufferPointer(rebasing: buffer[start..<end]), isFinal: false, into: &result.batch)
                }
                break
            }
            end += n
            if decoder == nil {
                // Enough of the head to tell the format: 64 KiB, or the whole input.
                if n > 0 && end - start < Self.sniffBytes { continue }
                let head = UnsafeRawBufferPointer(rebasing: buffer[start..<min(end, start + Self.sniffBytes)])
                switch chooseDecoder(path: path, head: head) {
                case .success(let chosen):
                    decoder = chosen
                    if offset + consumedTotal > 0 {
                        decoder!.resume(afterLines: linesBefore + linesConsumed, offset: offset + consumedTotal)
                    }
                    // Only JSON lines in a plain file can be left mid-way and resumed (a CSV needs its header).
                    following = follow && !reader.isGzip && !(chosen is BillingDecoder)
                case .failure(let refusal):
                    if refusal.message.isEmpty {
                        // Only whitespace so far: drop it and read on (the size caps still apply).
                        countLines(end - start)
                        consumedTotal += Int64(end - start)
                        start = end
                        if n > 0 { continue }
                        if follow && offset > 0 && !reader.isGzip {
                            // Only whitespace appended to a followed file (the line end of a record
                            // written in two steps): nothing to read yet, not an empty file.
                            result.followedTo = IngestPipeline.FollowedPosition(
                                offset: offset + consumedTotal, lines: linesBefore + linesConsumed)
                        } else {
                            refuse("file is empty; nothing to read")
                        }
                    } else {
                        refuse(refusal.message)
                    }
                    finished = true
                    continue
                }
            }
            let isFinal = n == 0
            let consumed = decoder!.decode(
                UnsafeRawBufferPointer(rebasing: buffer[start..<end]), isFinal: isFinal && !following,
                into: &result.batch)
            if follow { countLines(consumed) }
            consumedTotal += Int64(consumed)
            if isFinal && following {
                result.followedTo = IngestPipeline.FollowedPosition(
                    offset: offset + consumedTotal, lines: linesBefore + linesConsumed)
            }
            start += consumed
            if start == end {
                start = 0
                end = 0
            }
            if decoder!.refused {
                result.failed = true
                finished = true
            }
            if isFinal { finished = true }
        }
        result.storedBytes = reader.storedBytesRead
        result.decodedBytes = reader.bytesProduced
        if !geo.isEmpty {
            for i in result.batch.calls.indices {
                if let ip = result.batch.calls[i].sourceIP {
                    result.batch.calls[i].country = geo.country(of: ip)
                }
            }
        }
        if result.batch.diagnosticsSuppressed > 0 {
            result.batch.diagnostics.append(
                Diagnostic(
                    path: path, position: .file, severity: .note, category: "input",
                    message: "\(result.batch.diagnosticsSuppressed) further problem(s) in this file not shown"))
        }
        return result
    }
}

extension GeoIPTable {
    var isEmpty: Bool { count == 0 }
}
