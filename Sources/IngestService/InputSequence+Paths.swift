#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import Inputs
public import ObjectStore
public import UsageModel

extension InputSequence {
    /// How the `s3://` locations among the paths are listed.
    public struct Listing {
        /// Keys a listing page (nil: S3's 1,000).
        public var pageSize: Int?
        /// Objects of the first listing kept for the smallest days (see ``DeliveryOrderWalk``).
        public var keep: Int
        /// The client for the first location met; not called when no path is a location.
        public var makeClient: () throws -> S3Client

        public init(pageSize: Int? = nil, keep: Int = 256, makeClient: @escaping () throws -> S3Client) {
            self.pageSize = pageSize
            self.keep = keep
            self.makeClient = makeClient
        }
    }

    /// No AWS credentials were found for an `s3://` location: nothing can be listed (a configuration error).
    public struct NoCredentials: Error {
        public var diagnostic: Diagnostic
    }

    /// The inputs of `paths`, merged in one delivery order (``InputSequence``): local files as given, local directories walked once now
    /// and listed again a day at a time (``LocalDeliveryWalk``), `s3://` locations listed once now
    /// (``DeliveryOrderWalk``: which days each folder has) and handed out one object at a time as the
    /// pipeline pulls them (``source`` opens them). Problems found now are returned; the rest go to
    /// `report` as the walk meets them.
    /// - Throws: ``NoCredentials``, or what `listing.makeClient` throws.
    public static func make(
        _ paths: [String], listing: Listing, report: @escaping (Diagnostic) -> Void
    ) throws -> (inputs: InputSequence, problems: [Diagnostic]) {
        var segments: [Segment] = []
        var problems: [Diagnostic] = []
        var client: S3Client? = nil
        for path in paths {
            guard S3Location.isLocation(path) else {
                var info = stat()
                if path != "-", stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
                    // A directory a day at a time: its paths are not all held from the start.
                    let walk = LocalDeliveryWalk(directory: path)
                    segments.append(.tree(walk))
                    problems += walk.problems
                } else {
                    let (found, missing) = InputEnumerator.expand([path])
                    segments.append(.local(found))
                    problems += missing
                }
                continue
            }
            guard let location = S3Location.parse(path) else {
                problems.append(
                    Diagnostic(
                        path: path, position: .file, severity: .error, category: "s3",
                        message: "not an S3 location; write s3://bucket/prefix (a valid bucket name)"))
                continue
            }
            let s3 = try client ?? listing.makeClient()
            client = s3
            do {
                let walk = try DeliveryOrderWalk(
                    location: location, client: s3, pageSize: listing.pageSize, keep: listing.keep)
                segments.append(.objects(walk))
            } catch {
                var diagnostic = error.diagnostic
                if error.key == nil || error.key == location.prefix { diagnostic.path = location.description }
                if diagnostic.message.hasPrefix("no AWS credentials") { throw NoCredentials(diagnostic: diagnostic) }
                problems.append(diagnostic)
            }
        }
        let source = client.map { ObjectReaderSource(client: $0) }
        return (InputSequence(segments, source: source, report: report), problems)
    }
}
