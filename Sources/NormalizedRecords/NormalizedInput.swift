public import LogFormats
public import UsageModel

/// What the first stage of a distributed run made of one input: the decoded batch the merge stage
/// consumes, and the facts of the read (whether it reached the end, bytes stored and decoded), under
/// the input's own name.
///
/// `chiptrail normalize` writes one per input (``NormalizedRecordWriter``); `chiptrail ingest
/// --normalized` reads them back (``NormalizedRecordReader``) and merges them exactly as it merges the
/// inputs it reads itself: the merge sees the same values in the same order.
public struct NormalizedInput: Sendable {
    /// The input's name as `ingest` would have named it (diagnostics and event origins use it).
    public var name: String
    /// The input could not be read to its end (gzip fault, cap, unreadable, refused format).
    public var failed: Bool
    /// Bytes read as stored (compressed for gzip) and bytes decoded.
    public var storedBytes: Int64
    public var decodedBytes: Int64
    /// Events, calls (with GeoIP countries filled in), account and identifier names, diagnostics
    /// (the "further problems not shown" note included) and the record counts.
    public var batch: DecodedBatch
    /// The input's identity in a store's ledger when it was an object (its size and `etag:…` as read;
    /// nil for a file, whose fingerprint the merge takes from the file itself).
    public var ledgerIdentity: (size: Int64, fingerprint: String)?

    public init(
        name: String, failed: Bool, storedBytes: Int64, decodedBytes: Int64, batch: DecodedBatch,
        ledgerIdentity: (size: Int64, fingerprint: String)? = nil
    ) {
        self.ledgerIdentity = ledgerIdentity
        self.name = name
        self.failed = failed
        self.storedBytes = storedBytes
        self.decodedBytes = decodedBytes
        self.batch = batch
    }
}

/// A normalised-records file that cannot be read back: damaged, cut short, or of another version.
public struct NormalizedRecordError: Error, Sendable, CustomStringConvertible {
    /// What went wrong; new codes break no caller.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case notNormalized, unsupportedVersion, truncated, malformed
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The file does not start with the format's magic bytes.
        public static let notNormalized = Code(.notNormalized)
        /// Written by a chiptrail whose format version this one does not read.
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// The file ends inside a value.
        public static let truncated = Code(.truncated)
        /// A value out of its range (an unknown enum tag, a length past the end).
        public static let malformed = Code(.malformed)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The normalised file's path.
    public var path: String
    /// Byte offset of the fault in the file.
    public var offset: Int
    /// Lowercase, no final period, the remedy after a semicolon.
    public var message: String

    public init(code: Code, path: String, offset: Int, message: String) {
        self.code = code
        self.path = path
        self.offset = offset
        self.message = message
    }

    public var diagnostic: Diagnostic {
        Diagnostic(
            path: path, position: .offset(Int64(offset)), severity: .error, category: "normalized", message: message)
    }

    public var description: String { diagnostic.description }
}
