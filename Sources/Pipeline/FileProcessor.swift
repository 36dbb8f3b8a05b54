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
}

/// Reads inputs one at a time into a reused buffer: decompress, sniff, decode, locate addresses.
/// One per reader thread.
final class FileProcessor {
    let options: IngestOptions
    let geo: GeoIPTable
    private var buffer: UnsafeMutableRawBufferPointer
    private static let readChunk = 128 << 10

    init(options: IngestOptions, geo: GeoIPTable) {
        self.options = options
        self.geo = geo
        buffer = .allocate(byteCount: 1 << 20, alignment: 64)
    }

    deinit { buffer.deallocate() }

    func process(_ path: String) -> FileResult {
        var result = FileResult(path: path)
        let reader: InputReader
        do {
            reader = try InputReader(path: path, limits: options.limits)
        } catch {
            result.failed = true
            result.batch.report(error.diagnostic)
            return result
        }
        var start = 0
        var end = 0
        var sniffed = false
        var decoder = CloudTrailDecoder(path: path, maxRecordBytes: options.maxRecordBytes)
        var finished = false
        func refuse(_ message: String) {
            result.failed = true
            result.batch.report(
                Diagnostic(path: path, position: .file, severity: .error, category: "format", message: message))
        }
        while !finished {
            // A record that stays incomplete past the limit is skipped; the reading goes on.
            if end - start >= options.maxRecordBytes {
                decoder.skipOversizedRecord()
                let consumed = decoder.decode(
                    UnsafeRawBufferPointer(rebasing: buffer[start..<end]), isFinal: false, into: &result.batch)
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
                n = try reader.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end..<min(buffer.count, end + 2 * Self.readChunk)]))
            } catch {
                result.failed = true
                result.batch.report(error.diagnostic)
                // Decode what arrived before the fault, then stop.
                _ = decoder.decode(UnsafeRawBufferPointer(rebasing: buffer[start..<end]), isFinal: false, into: &result.batch)
                break
            }
            end += n
            if !sniffed && n > 0 && end - start < 4096 { continue }
            if !sniffed {
                let head = UnsafeRawBufferPointer(rebasing: buffer[start..<min(end, start + 4096)])
                let kind = ContentSniffer.sniff(head)
                if kind == .empty && n > 0 {
                    // Only whitespace so far: drop it and read on (the size caps still apply).
                    start = end
                    continue
                }
                sniffed = true
                switch kind {
                case .json:
                    break
                case .empty:
                    refuse("file is empty; nothing to read")
                    finished = true
                    continue
                case .zip:
                    refuse("zip archive: chiptrail reads gzip'd or plain files; unzip it first")
                    finished = true
                    continue
                case .csv:
                    refuse(
                        "CSV input (billing exports: CUR, FOCUS, Azure cost) is not decoded by this build; only CloudTrail JSON is")
                    finished = true
                    continue
                case .binary:
                    refuse("binary data, not a log format chiptrail reads; check that the file is a CloudTrail log")
                    finished = true
                    continue
                case .unknown:
                    refuse("unrecognised format (neither JSON nor CSV); check that the file is a CloudTrail log")
                    finished = true
                    continue
                }
            }
            if !sniffed { continue }
            let isFinal = n == 0
            let consumed = decoder.decode(
                UnsafeRawBufferPointer(rebasing: buffer[start..<end]), isFinal: isFinal, into: &result.batch)
            start += consumed
            if start == end {
                start = 0
                end = 0
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
