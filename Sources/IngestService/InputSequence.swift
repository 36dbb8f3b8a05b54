public import Inputs
public import ObjectStore
public import UsageModel

/// The inputs of `ingest`, pulled one at a time: local paths as expanded, then each `s3://` location's
/// objects in delivery order, registered with the readers' source (their ETag guards the read) when
/// pulled and forgotten once their outcome is merged — so what is held does not grow with the bucket.
public final class InputSequence: @unchecked Sendable {
    public enum Segment {
        case local([String])
        /// A local directory, a day at a time.
        case tree(LocalDeliveryWalk)
        case objects(DeliveryOrderWalk)
        /// Names read as they come (``NameStream``): how many is not known beforehand.
        case stream(NameStream)
    }

    private var segments: [Segment]
    private var segment = 0
    private var position = 0
    /// The readers' source, when a location is read.
    public let source: ObjectReaderSource?
    private let report: (Diagnostic) -> Void
    /// Inputs the expansion and first listings found (objects landed or gone since may change it).
    public let expected: Int
    /// Whether a day's folder could not be listed (then some objects or files were not read: exit status 1).
    public private(set) var listingFailed = false

    public init(_ segments: [Segment], source: ObjectReaderSource?, report: @escaping (Diagnostic) -> Void) {
        self.segments = segments
        self.source = source
        self.report = report
        var expected = 0
        for segment in segments {
            switch segment {
            case .local(let names): expected += names.count
            case .tree(let walk): expected += walk.count
            case .objects(let walk): expected += walk.count
            case .stream: break
            }
        }
        self.expected = expected
    }

    /// The next input's name, or nil after the last. Called from one thread at a time.
    public func next() -> String? {
        while segment < segments.count {
            switch segments[segment] {
            case .local(let names):
                if position < names.count {
                    position += 1
                    return names[position - 1]
                }
            case .tree(var walk):
                // Taken out while it moves on, so that its buffers are not copied.
                segments[segment] = .local([])
                let name = walk.next { diagnostic in
                    listingFailed = true
                    report(diagnostic)
                }
                segments[segment] = .tree(walk)
                if let name { return name }
            case .objects(var walk):
                // Taken out while it moves on, so that its buffers are not copied.
                segments[segment] = .local([])
                let entry = walk.next { diagnostic in
                    listingFailed = true
                    report(diagnostic)
                }
                segments[segment] = .objects(walk)
                if let entry {
                    source?.register(entry.object, as: entry.name)
                    return entry.name
                }
            case .stream(let names):
                if let name = names.next(report: { diagnostic in
                    listingFailed = true
                    report(diagnostic)
                }) {
                    return name
                }
            }
            segments[segment] = .local([])
            segment += 1
            position = 0
        }
        return nil
    }

    /// The object behind an input name, while it is being read and merged.
    public func object(named name: String) -> S3Object? { source?.object(named: name) }

    /// Forgets an input once its outcome is merged.
    public func finished(_ name: String) {
        guard let source else { return }
        source.forget(name)
        _ = source.takeFailure(name)
    }
}
