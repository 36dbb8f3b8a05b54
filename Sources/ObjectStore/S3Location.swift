/// `s3://bucket/prefix` as given on the command line.
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
    public var bucket: String
    /// The key prefix (may be empty: the whole bucket).
    public var prefix: String

    public init(bucket: String, prefix: String) {
        self.bucket = bucket
        self.prefix = prefix
    }

    /// Whether `text` names an object store location rather than a local path.
    public static func isLocation(_ text: String) -> Bool { text.hasPrefix("s3://") }

    /// Parses `s3://bucket[/prefix]`; nil when the bucket is missing or not a valid bucket name.
    public static func parse(_ text: String) -> S3Location? {
        guard isLocation(text) else { return nil }
        let rest = text.dropFirst("s3://".count)
        let slash = rest.firstIndex(of: "/")
        let bucket = String(slash.map { rest[..<$0] } ?? rest)
        let prefix = slash.map { String(rest[rest.index(after: $0)...]) } ?? ""
        guard (3...63).contains(bucket.count),
            bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") })
        else { return nil }
        return S3Location(bucket: bucket, prefix: prefix)
    }

    /// The input name of one object: `s3://bucket/key`.
    public static func inputName(bucket: String, key: String) -> String { "s3://\(bucket)/\(key)" }

    /// The bucket and key of an input name made by ``inputName(bucket:key:)``.
    public static func object(fromInputName name: String) -> (bucket: String, key: String)? {
        guard name.hasPrefix("s3://") else { return nil }
        let rest = name.dropFirst("s3://".count)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        return (String(rest[..<slash]), String(rest[rest.index(after: slash)...]))
    }

    public var description: String { "s3://\(bucket)/\(prefix)" }

    /// Whether the two locations can list a common key: the same bucket, and one prefix starts with the
    /// other (ListObjectsV2's prefixes are plain string prefixes: `AWSLogs` holds `AWSLogs2/…`).
    public func overlaps(_ other: S3Location) -> Bool {
        bucket == other.bucket && (prefix.hasPrefix(other.prefix) || other.prefix.hasPrefix(prefix))
    }

    /// The first pair, in the order given, of locations that overlap (``overlaps(_:)``), or nil.
    public static func firstOverlap(in locations: [S3Location]) -> (S3Location, S3Location)? {
        for (i, first) in locations.enumerated() {
            if let second = locations[(i + 1)...].first(where: first.overlaps) { return (first, second) }
        }
        return nil
    }
}

/// One object as listed.
public struct S3Object: Sendable, Hashable {
    public var key: String
    public var size: Int64
    /// The ETag as S3 gives it, quotes included (`"9b2cf535f27731c974343645a3985328"`).
    public var etag: String
    /// `LastModified` as listed (ISO 8601).
    public var lastModified: String

    public init(key: String, size: Int64, etag: String, lastModified: String) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}
