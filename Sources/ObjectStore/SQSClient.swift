import Foundation

/// An SQS queue as `--sqs` names it: `https://sqs.us-east-1.amazonaws.com/123456789012/name` (or the
/// legacy `https://us-east-1.queue.amazonaws.com/…`, or any host with `--endpoint-url`).
public struct SQSQueue: Sendable, Hashable, CustomStringConvertible {
    /// The URL as given: every call names the queue by it.
    public var url: String
    public var scheme: String
    /// Host, with `:port` when there is one.
    public var host: String
    /// The region in the host name (`sqs.REGION.amazonaws.com`), nil for other hosts.
    public var region: String?

    /// Parses a queue URL; nil when it is not `http(s)://host/ACCOUNT/NAME`.
    public static func parse(_ text: String) -> SQSQueue? {
        guard let endpoint = Endpoint.parse(text), !endpoint.host.isEmpty else { return nil }
        let parts = endpoint.path.split(separator: "/")
        guard parts.count == 2 else { return nil }
        let hostName = endpoint.host.split(separator: ":").first.map(String.init) ?? endpoint.host
        let labels = hostName.split(separator: ".").map(String.init)
        var region: String? = nil
        if hostName.hasSuffix(".amazonaws.com") || hostName.hasSuffix(".amazonaws.com.cn") {
            if labels.first == "sqs", labels.count >= 4 {
                region = labels[1]
            } else if labels.count >= 4, labels[1] == "queue" {
                region = labels[0]
            }
        }
        return SQSQueue(url: text, scheme: endpoint.scheme, host: endpoint.host, region: region)
    }

    public var description: String { url }
}

/// One message as received.
public struct SQSMessage: Sendable, Hashable {
    public var messageID: String
    /// What a delete or a visibility change of this receipt names (changes at each receive).
    public var receiptHandle: String
    public var body: String
    /// How often it was received (`ApproximateReceiveCount`), when the queue said.
    public var receiveCount: Int?

    public init(messageID: String, receiptHandle: String, body: String, receiveCount: Int? = nil) {
        self.messageID = messageID
        self.receiptHandle = receiptHandle
        self.body = body
        self.receiveCount = receiveCount
    }
}

/// The SQS calls `tail --sqs` makes, in SQS's JSON protocol (`X-Amz-Target: AmazonSQS.…`,
/// `application/x-amz-json-1.0`), signed with SigV4 for service `sqs`: ReceiveMessage (long polling),
/// ChangeMessageVisibilityBatch (the heartbeat), DeleteMessageBatch and GetQueueAttributes. Throttling,
/// 5xx and broken connections are retried as S3 requests are; failures name the queue URL and AWS's
/// error code, never a credential.
public final class SQSClient: @unchecked Sendable {
    public let queue: SQSQueue
    public let credentials: CredentialProvider
    public let http: HTTPClient
    public let retry: RetryPolicy
    private let endpoint: Endpoint
    private let region: String

    /// - Parameters:
    ///   - endpointURL: `--endpoint-url`; without it the queue URL's own host is called.
    /// - Throws: ``ObjectStoreError`` `.badLocation` for a queue or endpoint URL that cannot be parsed.
    public init(
        queueURL: String, credentials: CredentialProvider, endpointURL: String? = nil, region: String? = nil,
        retry: RetryPolicy = RetryPolicy(), http: HTTPClient = HTTPClient()
    ) throws(ObjectStoreError) {
        guard let queue = SQSQueue.parse(queueURL) else {
            throw ObjectStoreError(
                code: .badLocation, bucket: queueURL,
                message:
                    "not an SQS queue URL; give https://sqs.REGION.amazonaws.com/ACCOUNT/NAME (aws sqs get-queue-url prints it)"
            )
        }
        self.queue = queue
        self.credentials = credentials
        self.http = http
        self.retry = retry
        self.region = region ?? queue.region ?? credentials.region
        let text = endpointURL ?? credentials.endpointURL(service: "sqs") ?? "\(queue.scheme)://\(queue.host)"
        guard let endpoint = Endpoint.parse(text) else {
            throw ObjectStoreError(
                code: .badLocation,
                message: "cannot parse endpoint URL '\(text)'; give http://host:port or https://host")
        }
        self.endpoint = endpoint
    }

    // MARK: calls

    /// Waits up to `waitSeconds` (long polling, at most 20) for up to `maxMessages` (at most 10)
    /// messages, each hidden from other receivers for `visibilityTimeout` seconds.
    /// - Parameter shouldStop: asked about once a second; true gives the wait up (no messages).
    /// - Throws: ``ObjectStoreError`` after the retries, naming the queue and AWS's error code.
    public func receive(
        maxMessages: Int = 10, waitSeconds: Int = 20, visibilityTimeout: Int? = nil,
        shouldStop: @escaping () -> Bool = { false }
    ) throws(ObjectStoreError) -> [SQSMessage] {
        var body: [String: Any] = [
            "QueueUrl": queue.url, "MaxNumberOfMessages": min(10, max(1, maxMessages)),
            "WaitTimeSeconds": min(20, max(0, waitSeconds)), "MessageSystemAttributeNames": ["ApproximateReceiveCount"],
        ]
        if let visibilityTimeout { body["VisibilityTimeout"] = visibilityTimeout }
        guard
            let answer = try call(
                "ReceiveMessage", body, action: "sqs:ReceiveMessage", timeout: min(20, max(0, waitSeconds)) + 20,
                shouldStop: shouldStop)
        else { return [] }
        let messages = answer["Messages"] as? [[String: Any]] ?? []
        return messages.compactMap { m in
            guard let id = m["MessageId"] as? String, let handle = m["ReceiptHandle"] as? String else { return nil }
            let count = ((m["Attributes"] as? [String: Any])?["ApproximateReceiveCount"] as? String).flatMap { Int($0) }
            return SQSMessage(
                messageID: id, receiptHandle: handle, body: m["Body"] as? String ?? "", receiveCount: count)
        }
    }

    /// One receipt a batch call could not act on, with SQS's code (`ReceiptHandleIsInvalid`, …).
    public struct EntryFailure: Sendable, Hashable {
        public var receiptHandle: String
        public var awsCode: String
        public var message: String
    }

    /// Deletes the messages of these receipts (DeleteMessageBatch, ten a call).
    /// - Returns: the receipts SQS refused (an expired receipt: the message comes back and is read from
    ///   the ledger's point of view as already done).
    public func delete(_ receiptHandles: [String]) throws(ObjectStoreError) -> [EntryFailure] {
        try batch("DeleteMessageBatch", action: "sqs:DeleteMessage", receiptHandles) { _ in [:] }
    }

    /// Hides the messages of these receipts for `seconds` more from now (ChangeMessageVisibilityBatch,
    /// ten a call): the heartbeat while their objects are read.
    public func changeVisibility(_ receiptHandles: [String], seconds: Int) throws(ObjectStoreError) -> [EntryFailure] {
        try batch("ChangeMessageVisibilityBatch", action: "sqs:ChangeMessageVisibility", receiptHandles) { _ in
            ["VisibilityTimeout": seconds]
        }
    }

    /// The queue's attributes (GetQueueAttributes): `QueueArn`, `VisibilityTimeout`, … At start, this
    /// says whether the queue exists and the credentials reach it.
    public func attributes(_ names: [String] = ["QueueArn", "VisibilityTimeout"]) throws(ObjectStoreError)
        -> [String: String]
    {
        let answer = try call(
            "GetQueueAttributes", ["QueueUrl": queue.url, "AttributeNames": names], action: "sqs:GetQueueAttributes")
        return (answer?["Attributes"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
    }

    private func batch(
        _ target: String, action: String, _ receiptHandles: [String], extra: (Int) -> [String: Any]
    ) throws(ObjectStoreError) -> [EntryFailure] {
        var failures: [EntryFailure] = []
        var start = 0
        while start < receiptHandles.count {
            let slice = Array(receiptHandles[start..<min(receiptHandles.count, start + 10)])
            let entries: [[String: Any]] = slice.enumerated().map { index, handle in
                ["Id": String(index), "ReceiptHandle": handle].merging(extra(index)) { $1 }
            }
            let answer = try call(target, ["QueueUrl": queue.url, "Entries": entries], action: action)
            for failed in answer?["Failed"] as? [[String: Any]] ?? [] {
                guard let id = (failed["Id"] as? String).flatMap({ Int($0) }), slice.indices.contains(id) else {
                    continue
                }
                failures.append(
                    EntryFailure(
                        receiptHandle: slice[id], awsCode: failed["Code"] as? String ?? "unknown",
                        message: (failed["Message"] as? String ?? "").lowercased()))
            }
            start += slice.count
        }
        return failures
    }

    // MARK: requests, retries

    /// Sends one call, retried on throttling, 5xx and broken connections; the answer's JSON object, or
    /// nil when `shouldStop` ended the wait.
    private func call(
        _ target: String, _ body: [String: Any], action: String, timeout: Int = 30,
        shouldStop: (() -> Bool)? = nil
    ) throws(ObjectStoreError) -> [String: Any]? {
        let payload = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])).map(Array.init) ?? []
        var attempt = 0
        while true {
            attempt += 1
            var request = HTTPRequest(
                method: "POST", scheme: endpoint.scheme, host: endpoint.host,
                path: endpoint.path.isEmpty ? "/" : endpoint.path,
                headers: [("X-Amz-Target", "AmazonSQS.\(target)"), ("Content-Type", "application/x-amz-json-1.0")],
                body: payload)
            let credentials = try self.credentials.credentials()
            SigV4Signer(region: region, service: "sqs").sign(&request, credentials: credentials)
            let retryable: ObjectStoreError
            switch http.send(request, totalTimeout: timeout, shouldAbort: shouldStop) {
            case .failure(let failure):
                if failure.cancelled { return nil }
                let error = ObjectStoreError(
                    code: .transport, bucket: queue.url,
                    message:
                        "cannot reach \(request.host) (\(target)): \(failure.message); check --sqs, --endpoint-url and the network"
                )
                if [1, 3, 60].contains(failure.curlCode) { throw error }
                retryable = error
            case .success(let response):
                if response.status / 100 == 2 {
                    if response.body.isEmpty { return [:] }
                    guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
                    else {
                        throw ObjectStoreError(
                            code: .invalidResponse, bucket: queue.url, httpStatus: response.status,
                            message:
                                "the answer to \(target) is not a JSON object; the endpoint does not speak SQS's JSON protocol"
                        )
                    }
                    return object
                }
                retryable = try classify(response, target: target, action: action)
            }
            if attempt >= retry.maxAttempts { throw retryable.after(attempts: attempt) }
            if shouldStop?() == true { return nil }
            Thread.sleep(forTimeInterval: retry.delay(attempt: attempt))
        }
    }

    /// An error answer: returned when worth another try, thrown otherwise.
    private func classify(_ response: HTTPResponse, target: String, action: String) throws(ObjectStoreError)
        -> ObjectStoreError
    {
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        // `com.amazonaws.sqs#QueueDoesNotExist`, or the query protocol's code in a header
        // (`AWS.SimpleQueueService.NonExistentQueue;Sender`); a proxy's XML error has `<Code>`.
        var awsCode = (object?["__type"] as? String).map { String($0.split(separator: "#").last ?? "") }
        if awsCode == nil || awsCode?.isEmpty == true {
            awsCode =
                response.headers["x-amzn-query-error"].map { String($0.split(separator: ";").first ?? "") }
                ?? XMLFields(response.body).first("Code")
        }
        var message =
            (object?["message"] as? String) ?? (object?["Message"] as? String)
            ?? XMLFields(response.body).first("Message") ?? "no message"
        while message.hasSuffix(".") { message.removeLast() }
        if let first = message.first { message = first.lowercased() + message.dropFirst() }
        let status = response.status
        func error(_ code: ObjectStoreError.Code, _ remedy: String) -> ObjectStoreError {
            ObjectStoreError(
                code: code, bucket: queue.url, awsCode: awsCode, httpStatus: status,
                message: "\(target): \(message); \(remedy)")
        }
        switch (status, awsCode ?? "") {
        case (_, "ExpiredToken"), (_, "ExpiredTokenException"):
            credentials.invalidate()
            return error(.denied, "the credentials expired and were fetched again")
        case (429, _), (500...599, _), (_, "RequestThrottled"), (_, "ThrottlingException"), (_, "Throttling"),
            (_, "ServiceUnavailable"), (_, "InternalFailure"), (_, "KmsThrottled"), (_, "SlowDown"):
            return error(.service, "the queue is failing or throttling; try again later")
        case (_, "QueueDoesNotExist"), (_, "AWS.SimpleQueueService.NonExistentQueue"):
            throw error(.notFound, "check --sqs (aws sqs get-queue-url prints the URL) and the region")
        case (403, _), (_, "AccessDenied"), (_, "AccessDeniedException"), (_, "KmsAccessDenied"):
            let source = (try? credentials.credentials().source) ?? "none"
            throw error(.denied, "the credentials (\(source)) need \(action) on the queue (README: IAM policy)")
        default:
            throw error(.service, "not retried")
        }
    }
}
