import Foundation
import ObjectStore
import S3TestSupport
import Testing

@testable import TailService

/// tail's visibility heartbeat against moto's SQS on loopback, through the fault proxy (a fixture of its
/// own: its counts are read while other suites use theirs).
@Suite(.enabled(if: S3Fixture.available, "moto[server] is not installed (pip install 'moto[server]')"))
struct VisibilityHeartbeatTests {
    func fixture() throws -> S3Fixture { try #require(S3Fixture.forHeartbeat, "the S3 fixture did not start") }

    func client(_ s3: S3Fixture, queue: String) throws -> SQSClient {
        try SQSClient(
            queueURL: queue, credentials: CredentialProvider(environment: S3Fixture.environment()),
            endpointURL: s3.proxyEndpoint, retry: RetryPolicy(maxAttempts: 10, base: 0.01, cap: 0.1))
    }

    /// tail's heartbeat: a held message stays hidden well past its visibility timeout; once released, it
    /// comes back when the timeout runs out.
    @Test func theHeartbeatKeepsAHeldMessageHiddenUntilReleased() throws {
        let s3 = try fixture()
        s3.configure()
        let queue = try s3.makeQueue("tail-heartbeat")
        try s3.admin(["op": "send", "url": queue.url, "body": "held"])
        let sqs = try client(s3, queue: queue.url)
        let heartbeat = VisibilityHeartbeat(queue: sqs, timeout: 3)
        defer { heartbeat.stop() }
        let message = try #require(try sqs.receive(waitSeconds: 1, visibilityTimeout: 3).first)
        heartbeat.hold([message.receiptHandle])
        // Three timeouts later, still hidden (extended every 1.5 s: a slow call under load still
        // lands before the timeout).
        Thread.sleep(forTimeInterval: 9)
        #expect(try sqs.receive(waitSeconds: 0).isEmpty)
        #expect((s3.faults()["sqs:ChangeMessageVisibilityBatch"] ?? 0) >= 4)
        #expect(heartbeat.takeProblems().isEmpty)
        heartbeat.release([message.receiptHandle])
        let again = try sqs.receive(waitSeconds: 8, visibilityTimeout: 30)
        #expect(again.map(\.body) == ["held"])
    }
}
