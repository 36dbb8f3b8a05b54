import Foundation
import ObjectStore
import S3TestSupport
import Testing

/// The SQS client against moto's SQS (JSON protocol) on loopback, through the fault proxy.
@Suite(.serialized, .enabled(if: S3Fixture.available, "moto[server] is not installed (pip install 'moto[server]')"))
struct SQSClientTests {
    func fixture() throws -> S3Fixture { try #require(S3Fixture.forQueueClient, "the S3 fixture did not start") }

    func client(_ s3: S3Fixture, queue: String, attempts: Int = 10, environment: [String: String] = [:]) throws
        -> SQSClient
    {
        try SQSClient(
            queueURL: queue, credentials: CredentialProvider(environment: S3Fixture.environment(environment)),
            endpointURL: s3.proxyEndpoint, retry: RetryPolicy(maxAttempts: attempts, base: 0.01, cap: 0.1))
    }

    @Test func receivesChangesVisibilityAndDeletesInBatches() throws {
        let s3 = try fixture()
        s3.configure()
        let queue = try s3.makeQueue("client-basic")
        for n in 0..<13 { try s3.admin(["op": "send", "url": queue.url, "body": "message \(n)"]) }
        let sqs = try client(s3, queue: queue.url)
        #expect(try sqs.attributes()["QueueArn"] == queue.arn)
        var received: [SQSMessage] = []
        while received.count < 13 {
            let page = try sqs.receive(maxMessages: 10, waitSeconds: 1, visibilityTimeout: 60)
            if page.isEmpty { break }
            #expect(page.count <= 10)
            received += page
        }
        #expect(Set(received.map(\.body)) == Set((0..<13).map { "message \($0)" }))
        #expect(received.allSatisfy { $0.receiveCount == 1 })
        #expect(try s3.queueCounts(queue.url) == (0, 13))
        // Two batch calls of ten at most each; nothing refused.
        #expect(try sqs.changeVisibility(received.map(\.receiptHandle), seconds: 120).isEmpty)
        #expect(try sqs.delete(received.map(\.receiptHandle)).isEmpty)
        #expect(s3.faults()["sqs:DeleteMessageBatch"] == 2)
        #expect(s3.faults()["sqs:ChangeMessageVisibilityBatch"] == 2)
        #expect(try s3.queueCounts(queue.url) == (0, 0))
        // A receipt SQS does not know is named with its code, not thrown.
        let refused = try sqs.delete(["not-a-receipt"])
        #expect(refused.map(\.awsCode) == ["ReceiptHandleIsInvalid"])
    }

    @Test func aMessageWhoseVisibilityRunsOutComesBackAndOneExtendedDoesNot() throws {
        let s3 = try fixture()
        s3.configure()
        let queue = try s3.makeQueue("client-visibility")
        try s3.admin(["op": "send", "url": queue.url, "body": "kept"])
        try s3.admin(["op": "send", "url": queue.url, "body": "lapses"])
        let sqs = try client(s3, queue: queue.url)
        let first = try sqs.receive(maxMessages: 10, waitSeconds: 1, visibilityTimeout: 4)
        #expect(first.count == 2)
        let kept = try #require(first.first { $0.body == "kept" })
        #expect(try sqs.changeVisibility([kept.receiptHandle], seconds: 60).isEmpty)
        Thread.sleep(forTimeInterval: 5)
        let again = try sqs.receive(maxMessages: 10, waitSeconds: 2, visibilityTimeout: 60)
        #expect(again.map(\.body) == ["lapses"])
        #expect(again.first?.receiveCount == 2)
    }

    @Test func aLongPollEndsWithinASecondOrSoWhenAskedToStop() throws {
        let s3 = try fixture()
        s3.configure()
        let queue = try s3.makeQueue("client-stop")
        let sqs = try client(s3, queue: queue.url)
        let started = Date()
        let messages = try sqs.receive(waitSeconds: 20) { Date().timeIntervalSince(started) > 1 }
        let elapsed = Date().timeIntervalSince(started)
        #expect(messages.isEmpty)
        #expect(elapsed < 4, "the 20 s poll took \(elapsed) s to give up")
    }

    @Test func throttlingAndResetsOnTheQueueAreRetried() throws {
        let s3 = try fixture()
        let queue = try s3.makeQueue("client-faults")
        for n in 0..<5 { try s3.admin(["op": "send", "url": queue.url, "body": "m\(n)"]) }
        s3.configure(["slowdown-every": "3", "reset-every": "4"])
        let sqs = try client(s3, queue: queue.url)
        var bodies: Set<String> = []
        for _ in 0..<10 where bodies.count < 5 {
            let page = try sqs.receive(maxMessages: 2, waitSeconds: 1, visibilityTimeout: 60)
            #expect(try sqs.delete(page.map(\.receiptHandle)).isEmpty)
            bodies.formUnion(page.map(\.body))
        }
        let faults = s3.faults()
        s3.configure()
        #expect(bodies == ["m0", "m1", "m2", "m3", "m4"])
        #expect((faults["slowdown"] ?? 0) > 0)
        #expect((faults["reset"] ?? 0) > 0)
        #expect(try s3.queueCounts(queue.url) == (0, 0))
    }

    @Test func aMissingQueueIsNamedWithItsAWSCodeAndNoCredentialIsPrinted() throws {
        let s3 = try fixture()
        s3.configure()
        let secret = "wJalrXUtnFEMI-must-not-be-printed"
        let url = "http://127.0.0.1:\(s3.motoPort)/123456789012/no-such-queue"
        let sqs = try client(s3, queue: url, environment: ["AWS_SECRET_ACCESS_KEY": secret])
        let error = try #require(throws: ObjectStoreError.self) { try sqs.receive(waitSeconds: 0) }
        #expect(error.code == .notFound)
        #expect(error.awsCode == "QueueDoesNotExist")
        #expect(error.description.hasPrefix("\(url): error: [sqs] QueueDoesNotExist, HTTP 400: ReceiveMessage: "))
        #expect(error.description.contains("check --sqs"))
        #expect(!error.description.contains(secret))
    }

    @Test func aQueueThatKeepsFailingFailsAfterItsAttemptsNamingThem() throws {
        let s3 = try fixture()
        let queue = try s3.makeQueue("client-always-503")
        s3.configure(["slowdown-every": "1"])
        let sqs = try client(s3, queue: queue.url, attempts: 3)
        let error = try #require(throws: ObjectStoreError.self) { try sqs.receive(waitSeconds: 0) }
        s3.configure()
        #expect(error.code == .service)
        #expect(error.awsCode == "SlowDown")
        #expect(error.message.contains("after 3 attempts"))
    }
}
