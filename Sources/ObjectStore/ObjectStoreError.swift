public import UsageModel

/// A failure to reach an object store or a queue: names the bucket, the key and the AWS error code, and
/// what to do. Never carries a credential.
public struct ObjectStoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure; new codes break no caller.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case noCredentials, badCredentialsFile, badLocation, denied, notFound, changed, transport, service,
                invalidResponse, cancelled
        }
        fileprivate let base: Base
        fileprivate init(_ base: Base) { self.base = base }

        /// No credentials anywhere the AWS CLI looks.
        public static let noCredentials = Code(.noCredentials)
        /// A shared credentials or config file that cannot be used.
        public static let badCredentialsFile = Code(.badCredentialsFile)
        /// An `s3://` location or endpoint URL that cannot be parsed.
        public static let badLocation = Code(.badLocation)
        /// 403 and the like: credentials or policy do not allow the request.
        public static let denied = Code(.denied)
        /// No such bucket, key or queue.
        public static let notFound = Code(.notFound)
        /// The object was rewritten between listing and reading (its ETag changed).
        public static let changed = Code(.changed)
        /// Connection refused, reset, timed out — after every retry.
        public static let transport = Code(.transport)
        /// The service answered with an error (5xx, throttling) after every retry, or one not retried.
        public static let service = Code(.service)
        /// The service's answer could not be understood.
        public static let invalidResponse = Code(.invalidResponse)
        /// The reader stopped taking the body (not an error of the store).
        public static let cancelled = Code(.cancelled)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// The bucket (or queue URL) concerned, when there is one.
    public var bucket: String?
    public var key: String?
    /// AWS's own error code (`AccessDenied`, `NoSuchKey`, `SlowDown`, …) when the service gave one.
    public var awsCode: String?
    public var httpStatus: Int?
    /// Lowercase, no final period, the remedy after a semicolon.
    public var message: String

    public init(
        code: Code, bucket: String? = nil, key: String? = nil, awsCode: String? = nil, httpStatus: Int? = nil,
        message: String
    ) {
        self.code = code
        self.bucket = bucket
        self.key = key
        self.awsCode = awsCode
        self.httpStatus = httpStatus
        self.message = message
    }

    /// `s3://bucket/key`, `s3://bucket/` or the queue URL this error is about.
    public var location: String {
        guard let bucket else { return "aws" }
        if bucket.contains("://") { return bucket }
        return "s3://\(bucket)/\(key ?? "")"
    }

    /// The message with the AWS code and HTTP status in front when there are any.
    public var detail: String {
        var parts: [String] = []
        if let awsCode { parts.append(awsCode) }
        if let httpStatus { parts.append("HTTP \(httpStatus)") }
        let prefix = parts.isEmpty ? "" : parts.joined(separator: ", ") + ": "
        return prefix + message
    }

    /// The error as a diagnostic on its bucket and key (`[s3]`), or its queue URL (`[sqs]`).
    public var diagnostic: Diagnostic {
        Diagnostic(
            path: location, position: .file, severity: .error, category: bucket?.contains("://") == true ? "sqs" : "s3",
            message: detail)
    }

    public var description: String { diagnostic.description }
}
