import Foundation

/// One object a notification names as created.
public struct NotifiedObject: Sendable, Hashable {
    public var bucket: String
    /// The key decoded (S3 events carry it URL-encoded, `+` for a space).
    public var key: String
    /// The ETag without quotes, when the notification gives it (CloudTrail's does not).
    public var etag: String?
    public var size: Int64?
    /// S3's `sequencer`: orders events of the same key (hex, compared by length then value).
    public var sequencer: String?

    public init(bucket: String, key: String, etag: String? = nil, size: Int64? = nil, sequencer: String? = nil) {
        self.bucket = bucket
        self.key = key
        self.etag = etag
        self.size = size
        self.sequencer = sequencer
    }

    /// The input name the ledger and the readers use: `s3://bucket/key`.
    public var inputName: String { S3Location.inputName(bucket: bucket, key: key) }
}

/// What an SQS message says, in any of the forms that reach a queue: an S3 event notification
/// (`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{…}}]}`), the same
/// wrapped by SNS (`{"Type":"Notification","Message":"<the event as a string>"}`), CloudTrail's own
/// notification through SNS (`{"s3Bucket":"…","s3ObjectKey":["…"]}` in `Message`), and S3's
/// `s3:TestEvent`, sent when a notification configuration is saved.
public enum ObjectNotification: Sendable, Equatable {
    /// Objects created (ObjectCreated:* events, or CloudTrail's delivered log files).
    case created([NotifiedObject])
    /// `s3:TestEvent`: nothing to read.
    case test
    /// An S3 event of another kind (`ObjectRemoved:*`, …): nothing to read; the event names are given.
    case ignored([String])

    /// Why a message body is not a notification chiptrail reads.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// Lowercase, no final period, the remedy after a semicolon.
        public var message: String
        public var description: String { message }
    }

    /// Parses a message body.
    /// - Throws: ``ParseError`` for a body that is not JSON, or JSON of no form above.
    public static func parse(_ body: String) throws(ParseError) -> ObjectNotification {
        try parse(body, depth: 0)
    }

    private static func parse(_ body: String, depth: Int) throws(ParseError) -> ObjectNotification {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] else {
            throw ParseError(
                message:
                    "the message is not a JSON object; the queue should receive S3 event notifications (directly or through SNS)"
            )
        }
        // SNS: the notification is the string in `Message` (unless raw message delivery is on).
        if object["Type"] as? String == "Notification", let message = object["Message"] as? String, depth == 0 {
            return try parse(message, depth: depth + 1)
        }
        if object["Event"] as? String == "s3:TestEvent" { return .test }
        if let records = object["Records"] as? [[String: Any]] {
            var created: [NotifiedObject] = []
            var others: [String] = []
            for record in records {
                let name = record["eventName"] as? String ?? ""
                guard let s3 = record["s3"] as? [String: Any],
                    let bucket = (s3["bucket"] as? [String: Any])?["name"] as? String,
                    let entry = s3["object"] as? [String: Any], let rawKey = entry["key"] as? String
                else {
                    others.append(name.isEmpty ? "a record without s3.bucket.name and s3.object.key" : name)
                    continue
                }
                guard name.hasPrefix("ObjectCreated:") else {
                    others.append(name)
                    continue
                }
                let size = (entry["size"] as? NSNumber)?.int64Value
                created.append(
                    NotifiedObject(
                        bucket: bucket, key: S3Client.percentDecode(rawKey),
                        etag: (entry["eTag"] as? String).map { $0.trimmingCharacters(in: ["\""]) }, size: size,
                        sequencer: entry["sequencer"] as? String))
            }
            if created.isEmpty && !others.isEmpty { return .ignored(others) }
            if created.isEmpty {
                throw ParseError(message: "the message has an empty Records list; nothing to read")
            }
            return .created(created)
        }
        // CloudTrail's notification: keys as written (not URL-encoded), no ETag.
        if let bucket = object["s3Bucket"] as? String, let keys = object["s3ObjectKey"] as? [String] {
            return .created(keys.map { NotifiedObject(bucket: bucket, key: $0) })
        }
        throw ParseError(
            message:
                "the message is neither an S3 event notification, an SNS notification carrying one, nor CloudTrail's s3ObjectKey notification; check what publishes to the queue"
        )
    }
}
