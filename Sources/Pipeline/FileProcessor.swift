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
    /// An object's ledger identity as read where it was normalised (`ingest --normalized`).
    var ledgerIdentity: (size: Int64, fingerprint: String)? = nil
}

/// Reads inputs one at a time into a reused buffer: decompress, sniff, decode, locate addresses.
/// One per reader thread.
final class FileProcessor {
    let options: IngestOptions
    let geo: GeoIPTable
    /// The IP-intelligence feed (`--ip-intel`); empty without one.
    let anonymous: AnonymousNetworkTable
    private var buffer: UnsafeMutableRawBufferPointer
    private static let readChunk = 128 << 10
    /// Calls and accounts in the previous input: the next batch reserves as many, so it does not regrow
    /// from empty.
    private var callsHint = 0
    private var accountsHint = 0
    /// The last input's count of identifier names: the large customer's objects bring thousands each
    /// (9,383 user agents, 4,903 access keys and as many principals in 21,323 records of one), and a
    /// table grown from 16 slots moved them a dozen times.
    private var identifiersHint = 0
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

    init(options: IngestOptions, geo: GeoIPTable, anonymous: AnonymousNetworkTable = AnonymousNetworkTable()) {
        self.options = options
        self.geo = geo
        self.anonymous = anonymous
        buffer = .allocate(byteCount: 1 << 20, alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// Where the read of one input stands, between the steps of ``process(_:from:lines:follow:)``.
    private struct Reading {
        /// Where the read started in the input.
        let offset: Int64
        /// Whether a plain JSON-lines file is followed (its last incomplete line left for later).
        let follow: Bool
        /// The bytes read and not yet consumed: `buffer[start..<end]`.
        var start = 0
        var end = 0
        /// Chosen from the input's head: nil until enough of it has arrived.
        var decoder: (any LogDecoder)? = nil
        var finished = false
        /// The bytes consumed after `offset`.
        var consumedTotal: Int64 = 0
        /// Whether the last incomplete line is left for later: followed JSON lines in a plain file.
        var following = false
        // The line ends before `offset`, then those in the bytes consumed after it (counted when
        // following, and in leading whitespace dropped): where the decoder's line numbers start, and
        // where the next read resumes.
        var linesBefore = 0
        var linesConsumed = 0

        /// Where the next read resumes: after the bytes consumed, with the line ends before that.
        var position: IngestPipeline.FollowedPosition {
            IngestPipeline.FollowedPosition(offset: offset + consumedTotal, lines: linesBefore + linesConsumed)
        }
    }

    /// Reads one input; with `follow`, a plain (not gzip'd) JSON-lines file is read from `offset` and
    /// its last incomplete line is left for later (`followedTo`).
    /// - Parameter lines: the line ends before `offset`, so that records are numbered by the file's own
    ///   lines; nil when not known (a store written before they were kept): counted from the file.
    func process(_ path: String, from offset: Int64 = 0, lines: Int? = 0, follow: Bool = false) -> FileResult {
        if options.readsNormalized { return processNormalized(path) }
        var result = FileResult(path: path)
        result.batch.calls.reserveCapacity(callsHint)
        if accountsHint > 8 { result.batch.accountNames = KeyTable(capacity: accountsHint) }
        if identifiersHint > 8 { result.batch.identifierNames = KeyTable(capacity: identifiersHint) }
        defer {
            callsHint = min(result.batch.calls.count, 1 << 20)
            accountsHint = min(result.batch.accountNames.count, 1 << 16)
            identifiersHint = min(result.batch.identifierNames.count, 1 << 16)
        }
        guard let reader = open(path, into: &result) else { return result }
        var reading = Reading(offset: offset, follow: follow)
        if offset > 0 {
            // A file shortened since cannot be counted: its records are then numbered from its offset.
            reading.linesBefore = lines ?? reader.newlines(before: offset) ?? 0
            reader.skip(to: offset)
        }
        while !reading.finished {
            // A record that stays incomplete past the limit is skipped; the reading goes on.
            if reading.end - reading.start >= options.maxRecordBytes, reading.decoder != nil {
                skipOversizedRecord(&reading, into: &result)
            }
            makeRoom(&reading)
            guard let n = readNext(reader, &reading, into: &result) else { break }
            reading.end += n
            if reading.decoder == nil {
                // Enough of the head to tell the format: 64 KiB, or the whole input.
                if n > 0 && reading.end - reading.start < Self.sniffBytes { continue }
                guard startDecoding(path, reader, &reading, lastRead: n, into: &result) else { continue }
            }
            decode(&reading, isFinal: n == 0, into: &result)
        }
        complete(&result, path: path, reader: reader)
        return result
    }

    /// Opens the input: through the options' opener (an object store's) when it takes the path, else as
    /// a file.
    /// - Returns: nil when it cannot be opened: the input has failed, and the fault is reported.
    private func open(_ path: String, into result: inout FileResult) -> InputReader? {
        do {
            if let opener = options.opener, let opened = try opener(path, options.limits) {
                return opened
            } else {
                return try InputReader(path: path, limits: options.limits)
            }
        } catch {
            result.failed = true
            result.batch.report(error.diagnostic)
            return nil
        }
    }

    /// Skips a record that stays incomplete past the record limit (the decoder reports it) and decodes
    /// on from after it; the bytes consumed are counted (and their lines, when following).
    private func skipOversizedRecord(_ reading: inout Reading, into result: inout FileResult) {
        reading.decoder!.skipOversizedRecord()
        let unread = UnsafeRawBufferPointer(rebasing: buffer[reading.start..<reading.end])
        let consumed = reading.decoder!.decode(unread, isFinal: false, into: &result.batch)
        if reading.follow { countLines(consumed, &reading) }
        reading.consumedTotal += Int64(consumed)
        reading.start += consumed
    }

    /// Makes room for the next read of up to two chunks: moves the bytes not consumed to the front, or,
    /// if that is not enough, grows the buffer (up to the largest record).
    @inline(__always)
    private func makeRoom(_ reading: inout Reading) {
        guard buffer.count - reading.end < Self.readChunk else { return }
        if reading.start > 0 {
            if reading.end > reading.start {
                memmove(buffer.baseAddress!, buffer.baseAddress! + reading.start, reading.end - reading.start)
            }
            reading.end -= reading.start
            reading.start = 0
        }
        if buffer.count - reading.end < Self.readChunk {
            let bigger = UnsafeMutableRawBufferPointer.allocate(
                byteCount: max(buffer.count * 2, reading.end + 2 * Self.readChunk), alignment: 64)
            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: reading.end)
            buffer.deallocate()
            buffer = bigger
        }
    }

    /// Reads the next bytes of the input after `reading.end`.
    /// - Returns: how many (0 at the end of the input), or nil after a fault: the input has failed (and is
    ///   incomplete when its gzip stream was cut short), the fault is reported, and what arrived before
    ///   it is decoded.
    @inline(__always)
    private func readNext(_ reader: InputReader, _ reading: inout Reading, into result: inout FileResult) -> Int? {
        do {
            return try reader.read(
                into: UnsafeMutableRawBufferPointer(
                    rebasing: buffer[reading.end..<min(buffer.count, reading.end + 2 * Self.readChunk)]))
        } catch {
            result.failed = true
            if error.code == .truncated { result.incomplete = true }
            result.batch.report(error.diagnostic)
            // Decode what arrived before the fault, then stop.
            if reading.decoder != nil {
                let unread = UnsafeRawBufferPointer(rebasing: buffer[reading.start..<reading.end])
                _ = reading.decoder!.decode(unread, isFinal: false, into: &result.batch)
            }
            return nil
        }
    }

    /// Chooses the decoder from the head read so far (``chooseDecoder(path:head:)``), numbering its
    /// records from where the read stands, and whether the read follows the file.
    /// - Parameter n: the bytes the last read returned (0: the input ended).
    /// - Returns: whether a decoder was chosen, so the bytes are decoded next. If not, the head was
    ///   refused (reported; the input has failed and the reading is finished), or it is only whitespace
    ///   so far: dropped, and read on — unless the input ended, where a followed file has nothing new
    ///   (`followedTo` after the whitespace) and any other is reported empty.
    private func startDecoding(
        _ path: String, _ reader: InputReader, _ reading: inout Reading, lastRead n: Int,
        into result: inout FileResult
    ) -> Bool {
        let head = UnsafeRawBufferPointer(
            rebasing: buffer[reading.start..<min(reading.end, reading.start + Self.sniffBytes)])
        switch chooseDecoder(path: path, head: head) {
        case .success(let chosen):
            reading.decoder = chosen
            if reading.offset + reading.consumedTotal > 0 {
                reading.decoder!.resume(
                    afterLines: reading.linesBefore + reading.linesConsumed,
                    offset: reading.offset + reading.consumedTotal)
            }
            // Only JSON lines in a plain file can be left mid-way and resumed (a CSV needs its header).
            reading.following = reading.follow && !reader.isGzip && !(chosen is BillingDecoder)
            return true
        case .failure(let refusal):
            if refusal.message.isEmpty {
                // Only whitespace so far: drop it and read on (the size caps still apply).
                countLines(reading.end - reading.start, &reading)
                reading.consumedTotal += Int64(reading.end - reading.start)
                reading.start = reading.end
                if n > 0 { return false }
                if reading.follow && reading.offset > 0 && !reader.isGzip {
                    // Only whitespace appended to a followed file (the line end of a record
                    // written in two steps): nothing to read yet, not an empty file.
                    result.followedTo = reading.position
                } else {
                    refuse(path, "file is empty; nothing to read", into: &result)
                }
            } else {
                refuse(path, refusal.message, into: &result)
            }
            reading.finished = true
            return false
        }
    }

    /// Decodes the bytes not yet consumed — as the input's last (`isFinal`) unless following, when the
    /// last incomplete line is left for the next read and `followedTo` says where it starts — and keeps
    /// what the decoder left for the next read. The reading is finished at the end of the input, or when
    /// the decoder refused the input (which has then failed).
    @inline(__always)
    private func decode(_ reading: inout Reading, isFinal: Bool, into result: inout FileResult) {
        let unread = UnsafeRawBufferPointer(rebasing: buffer[reading.start..<reading.end])
        let consumed = reading.decoder!.decode(unread, isFinal: isFinal && !reading.following, into: &result.batch)
        if reading.follow { countLines(consumed, &reading) }
        reading.consumedTotal += Int64(consumed)
        if isFinal && reading.following {
            result.followedTo = reading.position
        }
        reading.start += consumed
        if reading.start == reading.end {
            reading.start = 0
            reading.end = 0
        }
        if reading.decoder!.refused {
            result.failed = true
            reading.finished = true
        }
        if isFinal { reading.finished = true }
    }

    /// Counts the line ends in the `count` bytes from `reading.start` into `reading.linesConsumed`.
    @inline(__always)
    private func countLines(_ count: Int, _ reading: inout Reading) {
        var p = UnsafeRawPointer(buffer.baseAddress! + reading.start)
        var left = count
        var counted = 0
        while left > 0, let hit = memchr(p, 0x0A, left) {
            counted += 1
            left -= UnsafeRawPointer(hit) - p + 1
            p = UnsafeRawPointer(hit) + 1
        }
        reading.linesConsumed += counted
    }

    /// Refuses the input: it has failed, with `message` as a format error on the whole file.
    private func refuse(_ path: String, _ message: String, into result: inout FileResult) {
        result.failed = true
        result.batch.report(
            Diagnostic(path: path, position: .file, severity: .error, category: "format", message: message))
    }

    /// Completes the result once the reading is done: the bytes read (stored, and decoded), each call's
    /// country from its source address (with a GeoIP table), its anonymising network (with an
    /// IP-intelligence feed), and a note of the problems not shown.
    /// - Complexity: O(calls × log ranges) with either table.
    private func complete(_ result: inout FileResult, path: String, reader: InputReader) {
        result.storedBytes = reader.storedBytesRead
        result.decodedBytes = reader.bytesProduced
        if !geo.isEmpty {
            for i in result.batch.calls.indices {
                if let ip = result.batch.calls[i].sourceIP {
                    result.batch.calls[i].country = geo.country(of: ip)
                }
            }
        }
        if !anonymous.isEmpty {
            for i in result.batch.calls.indices {
                if let ip = result.batch.calls[i].sourceIP {
                    result.batch.calls[i].network = anonymous.network(of: ip)
                }
            }
        }
        if result.batch.diagnosticsSuppressed > 0 {
            result.batch.diagnostics.append(
                Diagnostic(
                    path: path, position: .file, severity: .note, category: "input",
                    message: "\(result.batch.diagnosticsSuppressed) further problem(s) in this file not shown"))
        }
    }
}

extension GeoIPTable {
    var isEmpty: Bool { count == 0 }
}
