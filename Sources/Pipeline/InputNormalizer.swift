import Inputs
public import NormalizedRecords
public import Ownership
import UsageModel
import LogFormats

/// The first stage of a distributed run (`chiptrail normalize`): reads one input with the same reader,
/// format sniffing, decoders, GeoIP and IP-intelligence look-ups as `ingest`, and hands back what the merge consumes.
///
/// `ingest --normalized` merges these values (``IngestOptions/readsNormalized``) instead of reading the
/// inputs: what reaches the merge is the same, so the merge's result is. One normaliser per thread.
public final class InputNormalizer {
    private let processor: FileProcessor

    /// - Parameters:
    ///   - options: the reading options of `ingest` (limits, format, billing types, record size).
    ///   - geo: the GeoIP table calls are located with.
    ///   - anonymous: the IP-intelligence feed that names calls' anonymising networks (`--ip-intel`).
    public init(options: IngestOptions, geo: GeoIPTable, anonymous: AnonymousNetworkTable = AnonymousNetworkTable()) {
        var options = options
        options.readsNormalized = false
        processor = FileProcessor(options: options, geo: geo, anonymous: anonymous)
    }

    /// Reads `name` (opened through ``IngestOptions/opener`` when set, else as a path).
    /// - Complexity: O(n) in the input's bytes.
    public func normalize(_ name: String) -> NormalizedInput {
        let result = processor.process(name)
        return NormalizedInput(
            name: result.path, failed: result.failed, storedBytes: result.storedBytes,
            decodedBytes: result.decodedBytes,
            batch: result.batch)
    }
}

extension FileProcessor {
    /// Reads a file `chiptrail normalize` wrote: the result of reading its input, under the input's name.
    /// A file that cannot be read back is a failed input named by its own path.
    func processNormalized(_ path: String) -> FileResult {
        do {
            let bytes = try InputReader.readAll(path: path, maxBytes: 1 << 40)
            let input = try bytes.withUnsafeBytes { (raw) throws(NormalizedRecordError) in
                try NormalizedRecordReader.decode(raw, path: path)
            }
            var result = FileResult(path: input.name)
            result.batch = input.batch
            result.failed = input.failed
            result.storedBytes = input.storedBytes
            result.decodedBytes = input.decodedBytes
            result.ledgerIdentity = input.ledgerIdentity
            return result
        } catch let error as InputError {
            var result = FileResult(path: path)
            result.failed = true
            result.batch.report(error.diagnostic)
            return result
        } catch let error as NormalizedRecordError {
            var result = FileResult(path: path)
            result.failed = true
            result.batch.report(error.diagnostic)
            return result
        } catch {
            var result = FileResult(path: path)
            result.failed = true
            return result
        }
    }
}
