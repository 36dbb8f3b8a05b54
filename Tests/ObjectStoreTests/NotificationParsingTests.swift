import Foundation
import ObjectStore
import TestSupport
import Testing

/// The forms in which object notifications reach an SQS queue, as AWS documents them
/// (Fixtures/notifications): S3 event notifications, the same through SNS, CloudTrail's own SNS
/// notification, and S3's test event.
struct NotificationParsingTests {
    static func fixture(_ name: String) throws -> String {
        try String(contentsOfFile: Repository.fixtures(.objectStoreTests) + "/notifications/" + name, encoding: .utf8)
    }

    static let trailKey =
        "AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/01/111111111111_CloudTrail_us-east-1_20260301T0405Z_K6USNF5Z1ODLX7ZM.json.gz"

    @Test(arguments: ["s3-event-put.json", "sns-s3-event.json"])
    func anS3EventDirectOrThroughSNSNamesBucketKeyETagAndSequencer(name: String) throws {
        let parsed = try ObjectNotification.parse(Self.fixture(name))
        #expect(
            parsed
                == .created([
                    NotifiedObject(
                        bucket: "logs", key: Self.trailKey, etag: "9b2cf535f27731c974343645a3985328", size: 2417,
                        sequencer: "0065E1A3B1C2D3E4F5")
                ]))
    }

    @Test func anEventKeyIsURLDecodedWithPlusAsSpaceAndOtherEventsAreLeftOut() throws {
        let parsed = try ObjectNotification.parse(Self.fixture("s3-event-encoded-key.json"))
        guard case .created(let objects) = parsed else {
            Issue.record("not read as created: \(parsed)")
            return
        }
        #expect(objects.map(\.key) == ["keys/a b+c&d ü.json"])
        #expect(objects.map(\.etag) == ["d41d8cd98f00b204e9800998ecf8427e-2"])
        #expect(objects.map(\.inputName) == ["s3://odd/keys/a b+c&d ü.json"])
    }

    @Test func anEventWithNoCreatedObjectIsIgnoredByName() throws {
        #expect(
            try ObjectNotification.parse(Self.fixture("s3-event-removed-only.json"))
                == .ignored(["ObjectRemoved:Delete"]))
    }

    @Test func cloudTrailsNotificationNamesItsKeysAsWrittenWithoutAnETag() throws {
        let parsed = try ObjectNotification.parse(Self.fixture("sns-cloudtrail.json"))
        #expect(
            parsed
                == .created([
                    NotifiedObject(bucket: "logs", key: Self.trailKey),
                    NotifiedObject(
                        bucket: "logs",
                        key:
                            "AWSLogs/111111111111/CloudTrail/eu-west-1/2026/03/01/111111111111_CloudTrail_eu-west-1_20260301T0410Z_a b+c.json.gz"
                    ),
                ]))
    }

    @Test(arguments: ["s3-test-event.json", "sns-s3-test-event.json"])
    func theTestEventIsRecognisedDirectOrThroughSNS(name: String) throws {
        #expect(try ObjectNotification.parse(Self.fixture(name)) == .test)
    }

    @Test(arguments: ["not-json.txt", "sns-subscription-confirmation.json"])
    func otherBodiesAreRefusedWithWhatShouldPublishToTheQueue(name: String) throws {
        let error = try #require(throws: ObjectNotification.ParseError.self) {
            try ObjectNotification.parse(Self.fixture(name))
        }
        #expect(error.message.contains("S3 event notification"))
    }

    @Test func anSNSMessageWrappedTwiceIsNotUnwrappedForever() throws {
        let inner = try Self.fixture("sns-s3-event.json")
        let twice = try String(
            decoding: JSONSerialization.data(withJSONObject: ["Type": "Notification", "Message": inner]), as: UTF8.self)
        #expect(throws: ObjectNotification.ParseError.self) { try ObjectNotification.parse(twice) }
    }

    @Test(arguments: [
        ("https://sqs.eu-west-1.amazonaws.com/123456789012/trail", "eu-west-1"),
        ("https://ap-south-1.queue.amazonaws.com/123456789012/trail", "ap-south-1"),
        ("http://127.0.0.1:4566/000000000000/trail", nil),
    ])
    func aQueueURLGivesItsRegion(url: String, region: String?) throws {
        let queue = try #require(SQSQueue.parse(url))
        #expect(queue.region == region)
    }

    @Test(arguments: [
        "sqs://queue", "https://sqs.us-east-1.amazonaws.com/", "https://sqs.us-east-1.amazonaws.com/1/2/3", "trail",
    ])
    func aQueueURLWithoutAccountAndNameIsRefused(url: String) {
        #expect(SQSQueue.parse(url) == nil)
    }
}
