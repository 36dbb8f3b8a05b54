import IngestService
import ArgumentParser
import Foundation
import Inputs
import ObjectStore
import UsageModel
import Pipeline

/// `s3://bucket/prefix` arguments: listed through S3 and read through an ``ObjectReaderSource``;
/// other arguments expand as local paths; all merged in one delivery order (``InputSequence``).
enum ObjectInputWiring {
    /// CHIPTRAIL_S3_MAX_ATTEMPTS: how often a failing request is tried (default 10; tests lower it).
    static var retry: RetryPolicy {
        var retry = RetryPolicy()
        if let text = ProcessInfo.processInfo.environment["CHIPTRAIL_S3_MAX_ATTEMPTS"], let n = Int(text), n >= 1 {
            retry.maxAttempts = n
        }
        return retry
    }

    /// CHIPTRAIL_S3_PAGE_SIZE: keys a listing page (default S3's 1,000; tests lower it to page).
    static var pageSize: Int? { ProcessInfo.processInfo.environment["CHIPTRAIL_S3_PAGE_SIZE"].flatMap { Int($0) } }

    /// CHIPTRAIL_S3_LISTING_KEEP: objects of ingest's first listing kept for the smallest days (default
    /// 256; tests set 0 to list every day again, folder by folder).
    static var listingKeep: Int {
        ProcessInfo.processInfo.environment["CHIPTRAIL_S3_LISTING_KEEP"].flatMap { Int($0) }.map { max(0, $0) } ?? 256
    }

    /// The S3 client for `--endpoint-url` and the AWS CLI's credentials; a configuration error (2) if
    /// the endpoint cannot be parsed.
    static func makeClient(_ reader: ReaderOptions) throws -> S3Client {
        do {
            return try S3Client(credentials: CredentialProvider(), endpointURL: reader.endpointURL, retry: retry)
        } catch {
            Diagnostics.printRaw(error.description)
            throw ExitStatus(code: 2)
        }
    }

    /// Refuses `s3://` locations that overlap (the same bucket, one prefix starting with the other's):
    /// their common objects would be read twice, and each location's bounded ledger (rows pruned by
    /// day or by LastModified, under its own prefix) would prune rows the other still relies on.
    /// - Throws: `ValidationError` (exit status 2) naming both locations.
    static func validateLocations(_ paths: [String]) throws {
        guard let (first, second) = S3Location.firstOverlap(in: paths.compactMap(S3Location.parse)) else { return }
        if first == second {
            throw ValidationError("'\(first)' is named twice; name each s3:// location once")
        }
        let (outer, inner) = first.prefix.count <= second.prefix.count ? (first, second) : (second, first)
        throw ValidationError(
            "'\(inner)' overlaps '\(outer)' (its objects are listed under both); name '\(outer)' alone, or locations that do not overlap: overlapping locations would read objects twice and prune each other's ledger rows"
        )
    }

    /// The inputs of `paths` in delivery order (``InputSequence/make(_:listing:report:)``); the
    /// pipeline's opener reads the objects among them.
    /// - Throws: ``ExitStatus`` 2 when no AWS credentials are found, or the endpoint cannot be parsed.
    static func inputs(
        _ paths: [String], reader: ReaderOptions, setup: inout PipelineSetup, report: @escaping (Diagnostic) -> Void
    ) throws -> (inputs: InputSequence, problems: [Diagnostic]) {
        let listing = InputSequence.Listing(pageSize: pageSize, keep: listingKeep) { try makeClient(reader) }
        let made: (inputs: InputSequence, problems: [Diagnostic])
        do {
            made = try InputSequence.make(paths, listing: listing, report: report)
        } catch let error as InputSequence.NoCredentials {
            Diagnostics.report(error.diagnostic)
            throw ExitStatus(code: 2)
        }
        if let source = made.inputs.source {
            setup.options.opener = { name, limits throws(InputError) in try source.open(name, limits: limits) }
        }
        return made
    }

    /// Every input of ``inputs(_:reader:setup:report:)`` in a list (`normalize`), each object kept
    /// registered for its read in the source returned (nil when no path is a location) when `keepObjects`
    /// (a list that is only printed forgets each object as it goes: a bucket's listing is not held), and
    /// each input's listed size (an object's; nil for a local path) in `sizes`.
    static func expand(_ paths: [String], reader: ReaderOptions, setup: inout PipelineSetup, keepObjects: Bool)
        throws -> (inputs: [String], problems: [Diagnostic], source: ObjectReaderSource?, sizes: [Int64?])
    {
        var later: [Diagnostic] = []
        let (sequence, problems) = try inputs(paths, reader: reader, setup: &setup) { later.append($0) }
        var names: [String] = []
        var sizes: [Int64?] = []
        while let name = sequence.next() {
            names.append(name)
            sizes.append(sequence.source?.object(named: name)?.size)
            if !keepObjects { sequence.source?.forget(name) }
        }
        return (names, problems + later, sequence.source, sizes)
    }
}
