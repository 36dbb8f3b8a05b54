public import Inputs
public import ObjectStore
public import UsageModel

/// The inputs of `ingest`, pulled one at a time in one delivery order whatever paths named them: every
/// segment (a file, a directory's tree, an `s3://` location's objects, each already in delivery order) is
/// merged with the others by the delivery time in each name, then by path (bytes), names without a time
/// first (``InputEnumerator/sortedByDeliveryTime(_:)``'s order, which `tail` merges its sources by too). So
/// `ingest trail/ cur/`, `ingest cur/ trail/` and `ingest logs/` read the same files in the same order: a
/// billing export is not read before or after the whole trail depending on where it was named (billing
/// lines join the sessions when read, so the order changed the sessions cut: 1,059 against 1,902 alerts
/// on one world). Names read as they come (``NameStream``) keep their order. An object is registered with
/// the readers' source (its ETag guards the read) when pulled and forgotten once its outcome is merged —
/// so what is held does not grow with the bucket.
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
    /// Each local segment's next name.
    private var positions: [Int]
    /// Whether the segments are merged by delivery time (more than one, none a stream) or read in turn.
    private let merged: Bool
    /// The segments' merge (merged only).
    private var merge: DeliveryOrderMerge
    /// The last name handed out (merged only).
    private var last: String?
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
        merged =
            segments.count > 1
            && !segments.contains { if case .stream = $0 { true } else { false } }
        positions = Array(repeating: 0, count: segments.count)
        merge = DeliveryOrderMerge(count: segments.count)
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
        guard merged else {
            while segment < segments.count {
                if let name = pull(segment) { return name }
                segment += 1
            }
            return nil
        }
        // A path named twice (`ingest d d`, `ingest logs logs/billing`) comes twice in a row: read once.
        while let name = merge.next(pull: pull) {
            if name == last { continue }
            last = name
            return name
        }
        return nil
    }

    /// Segment `i`'s next name, or nil after its last (and its buffers let go).
    private func pull(_ i: Int) -> String? {
        switch segments[i] {
        case .local(let names):
            if positions[i] < names.count {
                positions[i] += 1
                return names[positions[i] - 1]
            }
        case .tree(var walk):
            // Taken out while it moves on, so that its buffers are not copied.
            segments[i] = .local([])
            let name = walk.next { diagnostic in
                listingFailed = true
                report(diagnostic)
            }
            segments[i] = .tree(walk)
            if let name { return name }
        case .objects(var walk):
            // Taken out while it moves on, so that its buffers are not copied.
            segments[i] = .local([])
            let entry = walk.next { diagnostic in
                listingFailed = true
                report(diagnostic)
            }
            segments[i] = .objects(walk)
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
        segments[i] = .local([])
        positions[i] = 0
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
