import Foundation
@testable import LogFormats
import TestSupport
import Testing
import UsageModel

@Suite struct CloudTrailDecoderTests {
    static let records = [
        cloudTrailRecord(name: "DescribeInstances", time: "2026-03-01T01:00:00Z", ip: "203.0.113.9"),
        runInstancesRecord(type: "p5.48xlarge", ids: ["i-0aaa", "i-0bbb"], time: "2026-03-01T02:00:00Z"),
        cloudTrailRecord(name: "ConsoleLogin", time: "2026-03-01T03:00:00Z", source: "signin.amazonaws.com"),
        lifecycleRecord("TerminateInstances", ids: ["i-0aaa"], time: "2026-03-01T09:00:00Z"),
    ]

    static let s3Document = "{\"Records\":[" + records.joined(separator: ",") + "]}"
    static let prettyArray = "[\n  " + records.joined(separator: ",\n  ") + "\n]\n"
    static let lines = records.joined(separator: "\n") + "\n"

    @Test(arguments: [1, 2, 3, 7, 64, 4096, 65_536])
    func decodesTheSameForAnyChunkSize(chunkSize: Int) {
        for document in [Self.s3Document, Self.prettyArray, Self.lines] {
            let batch = decodeCloudTrail(Array(document.utf8), chunkSize: chunkSize)
            #expect(batch.diagnostics.isEmpty, "\(batch.diagnostics)")
            #expect(batch.recordsRead == 4)
            #expect(batch.calls.count == 4)
            #expect(batch.calls.filter(\.isSignIn).count == 1)
            #expect(batch.events.map(\.resourceID) == ["i-0aaa", "i-0bbb", "i-0aaa"])
            #expect(batch.events.map(\.action) == [.launch, .launch, .terminate])
            #expect(batch.events[0].instanceType == "p5.48xlarge")
            #expect(batch.events[0].time == Timestamp.parse("2026-03-01T02:00:00Z"))
            #expect(batch.calls[0].sourceIP == IPAddress.parse("203.0.113.9"))
        }
    }

    @Test func linesOfRecordsAreNamedByLine() {
        let text = Self.lines.replacingOccurrences(
            of: "\"eventName\":\"ConsoleLogin\"", with: "\"eventName\":ConsoleLogin")
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: 100)
        #expect(batch.recordsRejected == 1)
        #expect(batch.recordsRead == 3)
        #expect(batch.diagnostics.count == 1)
        #expect(batch.diagnostics[0].position == .line(3))
        #expect(batch.diagnostics[0].description.hasPrefix("test.json:3: error: [json] malformed JSON"))
        #expect(batch.events.count == 3)
    }

    @Test(arguments: [5, 4096])
    func aMalformedRecordInsideTheRecordsArrayIsSkipped(chunkSize: Int) {
        let bad = Self.records[2].replacingOccurrences(
            of: "\"awsRegion\":\"us-east-1\"", with: "\"awsRegion\" \"us-east-1\"")
        let text =
            "{\"Records\":[" + [Self.records[0], Self.records[1], bad, Self.records[3]].joined(separator: ",") + "]}"
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: chunkSize)
        #expect(batch.recordsRejected == 1)
        #expect(batch.recordsRead == 3)
        #expect(batch.events.map(\.action) == [.launch, .launch, .terminate])
        // One-line S3 objects: the column is the bad record's byte offset + 1.
        let column = Int64(("{\"Records\":[" + Self.records[0] + "," + Self.records[1] + ",").utf8.count + 1)
        #expect(batch.diagnostics.first?.position == .lineColumn(1, column))
        #expect(batch.events[2].origin.position == .lineColumn(1, column + Int64(bad.utf8.count) + 1))
    }

    @Test func aRecordOverTheLimitIsSkippedAndTheRestRead() {
        let huge = cloudTrailRecord(request: "{\"userData\":\"" + String(repeating: "A", count: 300_000) + "\"}")
        let text = [Self.records[0], huge, Self.records[1]].joined(separator: "\n")
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: 65_536, maxRecordBytes: 100_000)
        #expect(batch.recordsRejected == 1)
        #expect(batch.diagnostics.first?.message.contains("larger than") == true)
        #expect(batch.diagnostics.first?.position == .line(2))
        #expect(batch.recordsRead == 2)
        #expect(batch.events.count == 2)
    }

    @Test func digestDocumentsAreSkippedSilently() {
        let digest = """
            {"awsAccountId":"123456789012","digestStartTime":"2020-09-11T18:36:49Z","digestEndTime":"2020-09-11T19:36:49Z","digestS3Bucket":"b","digestS3Object":"o","logFiles":[]}
            """
        let batch = decodeCloudTrail(Array(digest.utf8), chunkSize: 16)
        #expect(batch.diagnostics.isEmpty)
        #expect(batch.documentsSkipped == 1)
        #expect(batch.recordsRead == 0)
    }

    @Test(arguments: ["Client.DryRunOperation", "Client.UnauthorizedOperation"])
    func failedLaunchesStartNothing(error: String) {
        let text = runInstancesRecord(ids: [], error: error)
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: 4096)
        #expect(batch.events.isEmpty)
        #expect(batch.calls.count == 1)
    }

    @Test func instanceTypeAsAValueObjectAndLogstashTimestamp() {
        let text = """
            {"@timestamp":"2024-12-16 18:41:07.000000000","eventName":"RunInstances","eventSource":"ec2.amazonaws.com","recipientAccountId":"111122223333","awsRegion":"us-west-2","requestParameters":{"instanceType":{"value":"p4d.24xlarge"}},"responseElements":{"instancesSet":{"items":[{"instanceId":"i-1"}]}}}
            """
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: 4096)
        #expect(batch.diagnostics.isEmpty)
        #expect(batch.events.first?.instanceType == "p4d.24xlarge")
        #expect(batch.events.first?.time == Timestamp.parse("2024-12-16T18:41:07Z"))
    }

    @Test func sageMakerTrainingJobsCarryTypeAndCount() {
        let text = cloudTrailRecord(
            name: "CreateTrainingJob",
            request:
                "{\"trainingJobName\":\"llm\",\"resourceConfig\":{\"instanceType\":\"ml.p4d.24xlarge\",\"instanceCount\":4}}",
            response: "{\"trainingJobArn\":\"arn:aws:sagemaker:us-east-1:123456789012:training-job/llm\"}",
            source: "sagemaker.amazonaws.com")
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: 4096)
        #expect(batch.events.count == 1)
        #expect(batch.events[0].resourceID == "training-job/llm")
        #expect(batch.events[0].instanceType == "ml.p4d.24xlarge")
        #expect(batch.events[0].instanceCount == 4)
    }

    @Test func aTrainingJobIsNamedInLowerCaseAsItsARNSpellsIt() {
        let text = cloudTrailRecord(
            name: "CreateTrainingJob",
            request:
                "{\"trainingJobName\":\"LLM-Pretrain-7\",\"resourceConfig\":{\"instanceType\":\"ml.p5.48xlarge\"}}",
            source: "sagemaker.amazonaws.com")
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: 4096)
        #expect(batch.events.map(\.resourceID) == ["training-job/llm-pretrain-7"])
        // The job's billing lines name its ARN: the same resource.
        #expect(
            BillingDecoder.normalizeResource("arn:aws:sagemaker:us-east-1:123456789012:training-job/llm-pretrain-7")
                == "training-job/llm-pretrain-7")
    }

    /// A spot instance's item in a `RunInstances` response carries its spot request's id beside its
    /// instance id: one instance, one session (it was two, the request's never stopped).
    @Test func aSpotInstanceIsOneResourceNamedByItsInstanceId() {
        let items = ["i-0a", "i-0b"].enumerated().map { n, id in
            "{\"instanceId\":\"\(id)\",\"instanceType\":\"p4de.24xlarge\",\"instanceLifecycle\":\"spot\",\"spotInstanceRequestId\":\"sir-\(n)\"}"
        }
        let run = cloudTrailRecord(
            name: "RunInstances", request: "{\"instanceType\":\"p4de.24xlarge\"}",
            response: "{\"instancesSet\":{\"items\":[\(items.joined(separator: ","))]}}")
        // A spot request not yet fulfilled names no instance: the request is the resource.
        let request = cloudTrailRecord(
            name: "RequestSpotInstances", request: "{\"launchSpecification\":{\"instanceType\":\"p5.48xlarge\"}}",
            response:
                "{\"spotInstanceRequestSet\":{\"items\":[{\"spotInstanceRequestId\":\"sir-9\",\"launchSpecification\":{\"instanceType\":\"p5.48xlarge\"}}]}}"
        )
        for chunk in [1, 64, 4096] {
            let batch = decodeCloudTrail(Array((run + "\n" + request).utf8), chunkSize: chunk)
            #expect(batch.events.map(\.resourceID) == ["i-0a", "i-0b", "sir-9"])
            #expect(batch.events.map(\.instanceType) == ["p4de.24xlarge", "p4de.24xlarge", "p5.48xlarge"])
        }
    }

    @Test func fleetLaunchesFindInstancesInTheResponse() {
        let text = cloudTrailRecord(
            name: "CreateFleet",
            request: "{\"CreateFleetRequest\":{\"Type\":\"instant\"}}",
            response:
                "{\"CreateFleetResponse\":{\"fleetInstanceSet\":{\"item\":[{\"instanceIds\":{\"item\":[\"i-f1\",\"i-f2\"]},\"instanceType\":\"p5.48xlarge\"}]}}}"
        )
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: 4096)
        #expect(batch.events.map(\.resourceID) == ["i-f1", "i-f2"])
        #expect(batch.events.allSatisfy { $0.instanceType == "p5.48xlarge" })
    }

    @Test func escapedStringsAreDecodedForEvidence() {
        let text = cloudTrailRecord(name: "RunInstances").replacingOccurrences(
            of: "\"userAgent\":\"aws-cli/2.15\"", with: "\"userAgent\":\"evil\\nHIGH forged\\u0007\""
        )
        .replacingOccurrences(
            of: "\"requestParameters\":null", with: "\"requestParameters\":{\"instanceType\":\"p5.48xlarge\"}"
        )
        .replacingOccurrences(
            of: "\"responseElements\":null",
            with: "\"responseElements\":{\"instancesSet\":{\"items\":[{\"instanceId\":\"i-9\"}]}}")
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: 4096)
        #expect(batch.events.first?.userAgent == "evil\nHIGH forged\u{07}")
    }

    @Test func aRecordWithoutATimeIsRejectedByLine() {
        let text =
            "{\"eventName\":\"RunInstances\",\"eventSource\":\"ec2.amazonaws.com\"}\n{\"foo\":1}\n" + Self.records[0]
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: 4096)
        #expect(batch.recordsRejected == 2)
        #expect(batch.diagnostics.map(\.position) == [.lineColumn(1, 1), .line(2)])
        #expect(batch.diagnostics[1].message.contains("unknown shape"))
        #expect(batch.calls.count == 1)
    }

    @Test func aTruncatedDocumentIsNamed() {
        let text = String(Self.s3Document.prefix(Self.s3Document.count - 300))
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: 512)
        #expect(batch.recordsRejected == 1)
        #expect(batch.diagnostics.last?.message.contains("truncated") == true)
        #expect(batch.recordsRead == 3)
    }

    /// Every call carries its access key and its role or user name (without the account) for the
    /// shared-identity evidence: a role session is its role, unless the session is named after a
    /// person (then the person's name alone, which says who operated). Both decoding paths agree.
    @Test(arguments: [
        ("alice", "alice", true), ("grace.green@example.com", "grace.green@example.com", true),
        ("i-0123456789abcdef0", "role/ops", false), ("botocore-session-1700000000", "role/ops", false),
        ("terraform", "role/ops", false),
    ])
    func callsCarryTheirAccessKeyAndPrincipalName(session: String, principal: String, person: Bool) throws {
        let record = cloudTrailRecord(name: "DescribeInstances", account: "111122223333")
            .replacingOccurrences(of: "assumed-role/ops/alice", with: "assumed-role/ops/\(session)")
        let both = CloudTrailFastPathTests.readByBothPaths(
            Array(("{\"Records\":[" + record + "]}").utf8), chunkSize: 1 << 20)
        for batch in [both.fast, both.general] {
            let call = try #require(batch.calls.first)
            #expect(call.accessKeyKey == StableHash.hash("ASIAEXAMPLE"))
            #expect(
                call.principalKey
                    == (person
                        ? Array(principal.utf8).withUnsafeBytes {
                            StableHash.hash($0, seed: CloudTrailNames.personSeed)
                        }
                        : StableHash.hash(principal)))
        }
    }

    /// A call from AWS CloudShell (`exec-env/CloudShell` in its agent) is marked, whatever the agent's
    /// length (held by the agent cache or not) and by both paths; a plain aws-cli, or the words elsewhere
    /// than as a token of their own, are not.
    @Test(arguments: [
        ("aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exec-env/CloudShell exe/x86_64.amzn.2023 prompt/off", true),
        (
            "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exec-env/CloudShell exe/x86_64.amzn.2023 prompt/off "
                + "command/ec2.describe-instances md/installer#exe md/distrib#amzn.2023 md/arch#x86_64 cfg/retry-mode#standard",
            true
        ),
        ("aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exe/x86_64.ubuntu.22 prompt/off", false),
        ("aws-cli/2.15.30 Python/3.11.8 Linux/6.1.0 exec-env/CloudShellish exe/x86_64.amzn.2023", false),
        ("aws-cli/2.15", false),
    ])
    func cloudShellCallsAreMarked(agent: String, cloudShell: Bool) throws {
        let record = cloudTrailRecord(name: "DescribeInstances", account: "111122223333")
            .replacingOccurrences(of: "\"userAgent\":\"aws-cli/2.15\"", with: "\"userAgent\":\"\(agent)\"")
        // The same agent twice: the second call's answer comes from the agent cache.
        let both = CloudTrailFastPathTests.readByBothPaths(
            Array(("{\"Records\":[" + record + "," + record.replacingOccurrences(of: "r-1", with: "r-2") + "]}").utf8),
            chunkSize: 1 << 20)
        for batch in [both.fast, both.general] {
            #expect(batch.calls.count == 2)
            for call in batch.calls {
                #expect(call.isCloudShell == cloudShell, "\(agent)")
                #expect(!call.isMachine)
                #expect(call.agentKey == UserAgent.installationKey(agent))
            }
        }
        #expect(UserAgent.isCloudShell(agent) == cloudShell)
    }

    /// A person is one identifier whatever credentials carried the name: the same e-mail as an IAM user
    /// in one account and as an SSO session in another, or a name as a user and as a role session, is
    /// one principal key; a service's user name keeps its own.
    @Test func aPersonIsOnePrincipalWhateverCredentialsCarryTheName() throws {
        var names: [UInt64: Set<String>] = [:]
        func key(_ arn: String, issuer: String?) throws -> UInt64 {
            var record = cloudTrailRecord(name: "DescribeInstances", account: "111122223333")
                .replacingOccurrences(
                    of: "arn:aws:sts::111122223333:assumed-role/ops/alice", with: "arn:aws:iam::111122223333:\(arn)")
            if let issuer {
                record = record.replacingOccurrences(of: "role/ops\"", with: "\(issuer)\"")
            } else {
                record = record.replacingOccurrences(
                    of:
                        ",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\",\"arn\":\"arn:aws:iam::111122223333:role/ops\",\"userName\":\"ops\"}}",
                    with: "")
            }
            let both = CloudTrailFastPathTests.readByBothPaths(
                Array(("{\"Records\":[" + record + "]}").utf8), chunkSize: 1 << 20)
            let fast = try #require(both.fast.calls.first).principalKey
            #expect(fast == (try #require(both.general.calls.first)).principalKey)
            for batch in [both.fast, both.general] {
                names[fast, default: []].insert(
                    try #require(batch.identifierNames[DecodedBatch.nameKey(fast, kind: 2)]))
            }
            return fast
        }
        let sso = try key(
            "assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/grace.green@example.com",
            issuer: "role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef")
        let user = try key("user/grace.green@example.com", issuer: nil)
        #expect(sso == user)
        #expect(
            try key("assumed-role/DevOpsRole/erin.walker", issuer: "role/DevOpsRole")
                == key("user/erin.walker", issuer: nil))
        #expect(try key("user/gitlab-runner", issuer: nil) == StableHash.hash("user/gitlab-runner"))
        #expect(
            sso
                == Array("grace.green@example.com".utf8).withUnsafeBytes {
                    StableHash.hash($0, seed: CloudTrailNames.personSeed)
                })
        // The text of a person's key is the name alone, whichever form an input showed first (so the
        // evidence names it the same whatever was read first or spilled), and is still read as a person's.
        #expect(names[sso] == ["*/grace.green@example.com"])
        #expect(names[try key("user/erin.walker", issuer: nil)] == ["*/erin.walker"])
        #expect(names[StableHash.hash("user/gitlab-runner")] == ["user/gitlab-runner"])
        #expect(PrincipalName.isPersonal("*/grace.green@example.com") && PrincipalName.isPersonal("*/erin.walker"))
        #expect(!PrincipalName.isPersonal("*/gitlab-runner"))
    }
}
