import Foundation

/// How often and how long a failed request is tried again: 5xx, throttling (`SlowDown`, 429),
/// `RequestTimeout` and connection failures, after a full-jitter exponential back-off (a random
/// delay between 0 and `base · 2^attempt`, at most `cap`).
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var base: Double
    public var cap: Double

    public init(maxAttempts: Int = 10, base: Double = 0.05, cap: Double = 8) {
        self.maxAttempts = maxAttempts
        self.base = base
        self.cap = cap
    }

    func delay(attempt: Int) -> Double {
        Double.random(in: 0...min(cap, base * pow(2, Double(min(attempt, 30)))))
    }
}

/// The S3 calls chiptrail makes: ListObjectsV2 (paginated) and GetObject (streamed, resumed with a
/// Range request when the body breaks, guarded with If-Match so a rewritten object is never mixed with
/// its old bytes). Every request is signed with SigV4; failures name the bucket, the key and AWS's
/// error code.
public final class S3Client: @unchecked Sendable {
    public let credentials: CredentialProvider
    public let http: HTTPClient
    /// `--endpoint-url` (path-style addressing), or nil for AWS (virtual-hosted).
    public let endpoint: Endpoint?
    public let retry: RetryPolicy
    private let lock = NSLock()
    private var defaultRegion: String
    /// Buckets found in another region than the default (from `x-amz-bucket-region`).
    private var bucketRegions: [String: String] = [:]

    /// - Throws: ``ObjectStoreError`` `.badLocation` for an endpoint URL that cannot be parsed.
    public init(
        credentials: CredentialProvider, endpointURL: String? = nil, region: String? = nil,
        retry: RetryPolicy = RetryPolicy(), http: HTTPClient = HTTPClient()
    ) throws(ObjectStoreError) {
        self.credentials = credentials
        self.http = http
        self.retry = retry
        defaultRegion = region ?? credentials.region
        if let text = endpointURL ?? credentials.endpointURL(service: "s3") {
            guard let parsed = Endpoint.parse(text) else {
                throw ObjectStoreError(
                    code: .badLocation,
                    message: "cannot parse endpoint URL '\(text)'; give http://host:port or https://host")
            }
            endpoint = parsed
        } else {
            endpoint = nil
        }
    }

    private func region(for bucket: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        return bucketRegions[bucket] ?? defaultRegion
    }

    private func setRegion(_ region: String, for bucket: String) {
        lock.lock()
        bucketRegions[bucket] = region
        lock.unlock()
    }

    /// The request for `key` in `bucket` (nil key: the bucket itself), unsigned.
    func request(_ method: String, bucket: String, key: String?, query: [(name: String, value: String)] = [])
        -> HTTPRequest
    {
        let objectPath = key.map { "/" + $0 } ?? "/"
        if let endpoint {
            return HTTPRequest(
                method: method, scheme: endpoint.scheme, host: endpoint.host,
                path: endpoint.path + "/" + bucket + (key.map { "/" + $0 } ?? ""), query: query)
        }
        let region = region(for: bucket)
        if bucket.contains(".") {
            return HTTPRequest(
                method: method, host: "s3.\(region).amazonaws.com", path: "/" + bucket + (key.map { "/" + $0 } ?? ""),
                query: query)
        }
        return HTTPRequest(method: method, host: "\(bucket).s3.\(region).amazonaws.com", path: objectPath, query: query)
    }

    // MARK: listing

    /// One page of ListObjectsV2.
    public struct ListPage: Sendable {
        public var objects: [S3Object]
        /// The token for the next page; nil on the last.
        public var continuationToken: String?
    }

    /// One page of the objects under `prefix` (up to 1,000), after `continuationToken`.
    public func listObjects(bucket: String, prefix: String, continuationToken: String? = nil, maxKeys: Int? = nil)
        throws(ObjectStoreError) -> ListPage
    {
        var query: [(name: String, value: String)] = [("list-type", "2"), ("encoding-type", "url")]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        let response = try perform(what: "list", bucket: bucket, key: prefix) {
            self.request("GET", bucket: bucket, key: nil, query: query)
        }
        let xml = XMLFields(response.body)
        let urlEncoded = xml.first("EncodingType") == "url"
        var objects: [S3Object] = []
        for block in xml.blocks("Contents") {
            guard var key = block.first("Key") else { continue }
            if urlEncoded { key = Self.percentDecode(key) }
            objects.append(
                S3Object(
                    key: key, size: Int64(block.first("Size") ?? "") ?? 0, etag: block.first("ETag") ?? "",
                    lastModified: block.first("LastModified") ?? ""))
        }
        let truncated = xml.first("IsTruncated") == "true"
        let next = truncated ? xml.first("NextContinuationToken") : nil
        if truncated && next == nil {
            throw ObjectStoreError(
                code: .invalidResponse, bucket: bucket, key: prefix,
                message:
                    "the listing says it is truncated but gives no continuation token; the store is not S3-compatible enough"
            )
        }
        return ListPage(objects: objects, continuationToken: next)
    }

    /// Every object under `location`, page after page (by continuation token, never by a marker key).
    /// - Complexity: O(objects) requests/1000 and memory.
    /// - Parameter pageSize: keys a page (S3's default and maximum: 1,000).
    public func listAll(_ location: S3Location, pageSize: Int? = nil) throws(ObjectStoreError) -> [S3Object] {
        var all: [S3Object] = []
        var token: String? = nil
        repeat {
            let page = try listObjects(
                bucket: location.bucket, prefix: location.prefix, continuationToken: token, maxKeys: pageSize)
            all += page.objects
            token = page.continuationToken
        } while token != nil
        return all
    }

    /// `+` as space and `%XX` as bytes (S3's `encoding-type=url`).
    static func percentDecode(_ text: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: reading

    /// Streams one object's bytes to `onBody` in the order they are in the object, each byte once:
    /// a body cut short (reset, truncated, stalled) is resumed with `Range: bytes=N-` and `If-Match`.
    /// - Parameters:
    ///   - etag: the ETag listed; the read fails with `.changed` if the object no longer has it.
    ///   - onBody: takes each piece; returns false to stop (the read ends with `.cancelled`).
    /// - Returns: the bytes delivered and the ETag read.
    @discardableResult
    public func getObject(
        bucket: String, key: String, etag: String?, onBody: (UnsafeRawBufferPointer) -> Bool
    ) throws(ObjectStoreError) -> (bytes: Int64, etag: String?) {
        let state = GetState()
        state.etag = etag
        var attempt = 0
        while true {
            attempt += 1
            var request = request("GET", bucket: bucket, key: key)
            if state.offset > 0 { request.headers.append(("Range", "bytes=\(state.offset)-")) }
            if let etag = state.etag { request.headers.append(("If-Match", etag)) }
            let before = state.offset
            let outcome = try withoutActuallyEscaping(onBody) { onBody throws(ObjectStoreError) in
                try send(request, bucket: bucket, key: key) { head in
                    state.head(head)
                } onBody: { bytes in
                    state.body(bytes, onBody)
                }
            }
            switch outcome {
            case .success(let response):
                if let total = state.total, state.offset < total {
                    // An answer that ended early without a transport error (a proxy that closed cleanly).
                    if attempt >= retry.maxAttempts && state.offset == before {
                        throw ObjectStoreError(
                            code: .transport, bucket: bucket, key: key,
                            message:
                                "the body ends at byte \(state.offset) of \(total) after \(attempt) attempts; try again later"
                        )
                    }
                } else if response.status == 416 && state.offset > 0 {
                    return (state.offset, state.etag)
                } else if let problem = state.problem {
                    throw ObjectStoreError(code: .invalidResponse, bucket: bucket, key: key, message: problem)
                } else {
                    return (state.offset, state.etag)
                }
            case .retry(let error):
                if state.cancelled {
                    throw ObjectStoreError(code: .cancelled, bucket: bucket, key: key, message: "the reader stopped")
                }
                // Progress resets the count: a body that breaks often but moves on is read to the end.
                if state.offset > before { attempt = 1 }
                if attempt >= retry.maxAttempts {
                    throw error.after(attempts: attempt, detail: "\(state.offset) bytes read")
                }
            }
            Thread.sleep(forTimeInterval: retry.delay(attempt: attempt))
        }
    }

    private final class GetState {
        var offset: Int64 = 0
        var etag: String?
        var total: Int64?
        var skip: Int64 = 0
        var cancelled = false
        var problem: String?

        func head(_ response: HTTPResponse) {
            skip = 0
            guard response.status / 100 == 2 else { return }
            if etag == nil { etag = response.headers["etag"] }
            if response.status == 200 {
                // The whole object (the first request, or a server that ignored the range).
                skip = offset
                if let length = response.headers["content-length"].flatMap({ Int64($0) }) { total = length }
            } else if response.status == 206, let range = response.headers["content-range"] {
                // `bytes 100-199/200`
                let parts = range.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "/" })
                if parts.count == 4, let start = Int64(parts[1]), let size = Int64(parts[3]) {
                    total = size
                    if start != offset { problem = "asked for bytes from \(offset), got a range from \(start)" }
                }
            }
        }

        func body(_ bytes: UnsafeRawBufferPointer, _ onBody: (UnsafeRawBufferPointer) -> Bool) -> Bool {
            guard problem == nil else { return false }
            var piece = bytes
            if skip > 0 {
                let drop = Int(min(skip, Int64(piece.count)))
                skip -= Int64(drop)
                piece = UnsafeRawBufferPointer(rebasing: piece[drop...])
                if piece.isEmpty { return true }
            }
            guard onBody(piece) else {
                cancelled = true
                return false
            }
            offset += Int64(piece.count)
            return true
        }
    }

    // MARK: requests, retries

    enum Outcome {
        case success(HTTPResponse)
        case retry(ObjectStoreError)
    }

    /// A request that is not streamed (listing): retried until it succeeds or fails for good.
    func perform(what: String, bucket: String, key: String?, make: () -> HTTPRequest) throws(ObjectStoreError)
        -> HTTPResponse
    {
        var attempt = 0
        while true {
            attempt += 1
            switch try send(make(), bucket: bucket, key: key, onHead: nil, onBody: nil) {
            case .success(let response): return response
            case .retry(let error):
                if attempt >= retry.maxAttempts { throw error.after(attempts: attempt) }
            }
            Thread.sleep(forTimeInterval: retry.delay(attempt: attempt))
        }
    }

    /// Signs and sends one request; sorts the answer into success, worth another try, or a failure
    /// (thrown). A 2xx body goes to `onBody` when given, else it is collected.
    func send(
        _ unsigned: HTTPRequest, bucket: String, key: String?, onHead: ((HTTPResponse) -> Void)?,
        onBody: ((UnsafeRawBufferPointer) -> Bool)?
    ) throws(ObjectStoreError) -> Outcome {
        var request = unsigned
        let credentials = try self.credentials.credentials()
        SigV4Signer(region: region(for: bucket), service: "s3").sign(&request, credentials: credentials)
        var collected: [UInt8] = []
        let result = http.send(
            request, onHead: onHead,
            onBody: { bytes in
                if let onBody { return onBody(bytes) }
                collected += bytes
                return true
            })
        switch result {
        case .failure(let failure):
            let error = ObjectStoreError(
                code: failure.cancelled ? .cancelled : .transport, bucket: bucket, key: key,
                message: "cannot read from \(request.host): \(failure.message); check --endpoint-url and the network")
            if failure.cancelled { throw error }
            // A URL curl cannot use, or a TLS certificate it does not trust, will not get better.
            if [1, 3, 60].contains(failure.curlCode) { throw error }
            return .retry(error)
        case .success(var response):
            if response.status / 100 == 2 || response.status == 416 {
                if onBody == nil { response.body = collected }
                return .success(response)
            }
            return try classify(
                response, bucket: bucket, key: key, listing: unsigned.query.contains { $0.name == "list-type" })
        }
    }

    private func classify(_ response: HTTPResponse, bucket: String, key: String?, listing: Bool)
        throws(ObjectStoreError)
        -> Outcome
    {
        let xml = XMLFields(response.body)
        let awsCode = xml.first("Code") ?? response.headers["x-amz-error-code"]
        let message = (xml.first("Message") ?? response.headers["x-amz-error-message"] ?? "no message").lowercasedFirst
        let status = response.status
        func error(_ code: ObjectStoreError.Code, _ remedy: String) -> ObjectStoreError {
            ObjectStoreError(
                code: code, bucket: bucket, key: key, awsCode: awsCode, httpStatus: status,
                message: "\(message); \(remedy)")
        }
        if let bucketRegion = response.headers["x-amz-bucket-region"], bucketRegion != region(for: bucket),
            endpoint == nil
        {
            setRegion(bucketRegion, for: bucket)
            return .retry(error(.service, "the bucket is in \(bucketRegion)"))
        }
        switch (status, awsCode ?? "") {
        case (_, "ExpiredToken"), (_, "ExpiredTokenException"), (_, "TokenRefreshRequired"):
            credentials.invalidate()
            return .retry(error(.denied, "the credentials expired and were fetched again"))
        case (429, _), (500...599, _), (_, "RequestTimeout"), (_, "SlowDown"), (_, "Throttling"),
            (_, "ThrottlingException"), (_, "RequestThrottled"), (_, "InternalError"):
            return .retry(error(.service, "the service is failing or throttling; try again later, or lower --jobs"))
        case (403, _):
            throw error(
                .denied,
                listing
                    ? "the credentials (\(credentialSource)) need s3:ListBucket on arn:aws:s3:::\(bucket) for this prefix (README: IAM policy)"
                    : "the credentials (\(credentialSource)) need s3:GetObject on arn:aws:s3:::\(bucket)/\(key ?? "") (README: IAM policy)"
            )
        case (404, "NoSuchBucket"):
            throw error(.notFound, "check the bucket's name (and --endpoint-url)")
        case (404, _):
            throw error(.notFound, "the object was deleted after it was listed, or the name is wrong")
        case (412, _):
            throw error(.changed, "the object was rewritten while it was read; ingest it again")
        default:
            throw error(.service, "not retried")
        }
    }

    private var credentialSource: String { (try? credentials.credentials().source) ?? "none" }
}

extension ObjectStoreError {
    /// The message with the number of attempts made before its remedy.
    func after(attempts: Int, detail: String? = nil) -> ObjectStoreError {
        var copy = self
        let note = " (after \(attempts) attempts\(detail.map { ", \($0)" } ?? ""))"
        if let semicolon = copy.message.firstIndex(of: ";") {
            copy.message.insert(contentsOf: note, at: semicolon)
        } else {
            copy.message += note
        }
        return copy
    }
}

extension String {
    fileprivate var lowercasedFirst: String {
        var text = self
        while text.hasSuffix(".") { text.removeLast() }
        guard let first = text.first else { return text }
        return first.lowercased() + text.dropFirst()
    }
}
