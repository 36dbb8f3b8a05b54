import ArgumentParser
import Foundation
import Inputs
import ObjectStore
import UsageModel

/// `s3://bucket/prefix` arguments: listed through S3 and read through an ``ObjectReaderSource``;
/// other arguments expand as local paths, in the order given.
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

    static func expand(_ paths: [String], reader: ReaderOptions, setup: inout PipelineSetup) throws
        -> (inputs: [String], problems: [Diagnostic], objects: [String: S3Object])
    {
        var inputs: [String] = []
        var problems: [Diagnostic] = []
        var objects: [String: S3Object] = [:]
        var client: S3Client? = nil
        for path in paths {
            guard S3Location.isLocation(path) else {
                let (found, missing) = InputEnumerator.expand([path])
                inputs += found
                problems += missing
                continue
            }
            guard let location = S3Location.parse(path) else {
                problems.append(
                    Diagnostic(
                        path: path, position: .file, severity: .error, category: "s3",
                        message: "not an S3 location; write s3://bucket/prefix (a valid bucket name)"))
                continue
            }
            if client == nil { client = try makeClient(reader) }
            let listing = ObjectInputs.list([location], client: client!, pageSize: pageSize)
            if let failure = listing.problems.first, failure.message.hasPrefix("no AWS credentials") {
                listing.problems.forEach(Diagnostics.report)
                throw ExitStatus(code: 2)
            }
            inputs += listing.inputs
            problems += listing.problems
            objects.merge(listing.objects) { first, _ in first }
        }
        if let client, !objects.isEmpty {
            let source = ObjectReaderSource(client: client, objects: objects)
            setup.options.opener = { name, limits throws(InputError) in try source.open(name, limits: limits) }
        }
        return (inputs, problems, objects)
    }
}
