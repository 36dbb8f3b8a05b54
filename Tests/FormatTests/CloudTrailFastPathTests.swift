import CJSONIndex
import Foundation
@testable import LogFormats
import TestSupport
import Testing
import UsageModel

/// The CloudTrail decoder's fast path must read every record exactly as the general path does, or leave
/// it to the general path: same calls, events, counts and diagnostics, whatever the shape.
@Suite struct CloudTrailFastPathTests {
    static let compact = cloudTrailRecord(name: "DescribeInstances", time: "2026-03-01T01:00:00Z", ip: "203.0.113.9")
    static let launch = runInstancesRecord(
        type: "p5.48xlarge", ids: ["i-0aaa", "i-0bbb"], time: "2026-03-01T02:00:00Z")

    /// Records of every shape the general path accepts or rejects, one per document.
    static let shapes: [String] = [
        compact,
        launch,
        lifecycleRecord("TerminateInstances", ids: ["i-0aaa"], time: "2026-03-01T09:00:00Z"),
        cloudTrailRecord(name: "ConsoleLogin", source: "signin.amazonaws.com"),
        cloudTrailRecord(error: "Client.UnauthorizedOperation"),
        // Whitespace everywhere Python's json.dumps and pretty printers put it.
        compact.replacingOccurrences(of: "\":", with: "\": ").replacingOccurrences(of: ",\"", with: ", \""),
        compact.replacingOccurrences(of: ",\"", with: ",\n  \"").replacingOccurrences(of: "{\"", with: "{\n  \""),
        compact.replacingOccurrences(of: "\":", with: "\" :\t"),
        // Nulls, numbers and objects where strings are expected.
        compact.replacingOccurrences(of: "\"userAgent\":\"aws-cli/2.15\"", with: "\"userAgent\":null"),
        compact.replacingOccurrences(of: "\"sourceIPAddress\":\"203.0.113.9\"", with: "\"sourceIPAddress\":17"),
        compact.replacingOccurrences(of: "\"awsRegion\":\"us-east-1\"", with: "\"awsRegion\":{\"a\":[1,2]}"),
        compact.replacingOccurrences(of: "\"eventID\":\"", with: "\"eventID\":\"null").replacingOccurrences(
            of: "\"requestID\"", with: "\"x\":\"null\",\"requestID\""),
        // userIdentity variants: null, empty, without session context, a service, twice, malformed inside.
        compact.replacing(#/"userIdentity":\{.*?\}\}\},/#, with: "\"userIdentity\":null,"),
        compact.replacing(#/"userIdentity":\{.*?\}\}\},/#, with: "\"userIdentity\":{},"),
        compact.replacing(
            #/"userIdentity":\{.*?\}\}\},/#,
            with: "\"userIdentity\":{\"type\":\"AWSService\",\"invokedBy\":\"autoscaling.amazonaws.com\"},"),
        compact.replacingOccurrences(
            of: "{\"eventVersion\"",
            with: "{\"userIdentity\":{\"type\":\"Root\",\"arn\":\"arn:aws:iam::1:root\"},\"eventVersion\""),
        compact.replacingOccurrences(of: "\"sessionIssuer\":{", with: "\"sessionIssuer\":{\"x\":[{\"arn\":1}],"),
        compact.replacingOccurrences(
            of: "\"sessionContext\":{", with: "\"sessionContext\":{\"sessionIssuer\":null,\"webIdFederationData\":{},"),
        compact.replacingOccurrences(of: "\"type\":\"AssumedRole\"", with: "\"type\" \"AssumedRole\""),
        compact.replacingOccurrences(of: "\"accountId\":\"123456789012\"", with: "\"accountId\":tru"),
        // No recipientAccountId: the account comes from userIdentity.
        compact.replacingOccurrences(of: ",\"recipientAccountId\":\"123456789012\"", with: ""),
        // Escapes in keys and values; a quote inside a value; non-ASCII.
        compact.replacingOccurrences(of: "aws-cli/2.15", with: #"aws-cli/2.15 \"quoted\" \\ \u00e9 é"#),
        compact.replacingOccurrences(of: "\"eventName\"", with: #""event\u004eame""#),
        // Digests, insights, no time, a bad time, the Logstash timestamp.
        "{\"digestStartTime\":\"2026-03-01T00:00:00Z\",\"digestS3Object\":\"x\",\"logFiles\":[]}",
        compact.replacingOccurrences(of: "\"AwsApiCall\"", with: "\"AwsCloudTrailInsight\""),
        compact.replacingOccurrences(of: "\"eventTime\":\"2026-03-01T01:00:00Z\",", with: ""),
        compact.replacingOccurrences(of: "2026-03-01T01:00:00Z", with: "yesterday"),
        compact.replacingOccurrences(of: "\"eventTime\"", with: "\"@timestamp\""),
        // Malformed: a missing colon, a bare word, an unterminated string, a newline inside a string, a stray comma.
        compact.replacingOccurrences(of: "\"awsRegion\":", with: "\"awsRegion\""),
        compact.replacingOccurrences(of: "\"us-east-1\"", with: "us-east-1"),
        compact.replacingOccurrences(of: "\"readOnly\":false,", with: "\"readOnly\":false,,"),
        compact.replacingOccurrences(of: "aws-cli/2.15", with: "aws-cli\n2.15"),
        "{}",
        "{\"eventTime\":\"2026-03-01T01:00:00Z\"",
    ]

    static func documents(_ record: String) -> [String] {
        [
            "{\"Records\":[" + [compact, record, launch].joined(separator: ",") + "]}",
            [compact, record, launch].joined(separator: "\n") + "\n",
        ]
    }

    /// `bytes` read with the fast path tried first, and by the general path alone.
    static func readByBothPaths(_ bytes: [UInt8], chunkSize: Int) -> (fast: DecodedBatch, general: DecodedBatch) {
        func read(fastPath: Bool) -> DecodedBatch {
            decode(
                bytes, with: CloudTrailDecoder(path: "t.json", maxRecordBytes: 16 << 20, fastPath: fastPath),
                chunkSize: chunkSize)
        }
        return (read(fastPath: true), read(fastPath: false))
    }

    @Test(arguments: shapes.indices, [7, 64, 65_536])
    func fastAndGeneralPathsAgree(shape: Int, chunkSize: Int) {
        for document in Self.documents(Self.shapes[shape]) {
            let bytes = Array(document.utf8)
            let (fast, general) = Self.readByBothPaths(bytes, chunkSize: chunkSize)
            #expect(fast.calls == general.calls)
            #expect(fast.events == general.events)
            #expect(fast.diagnostics.map(\.description) == general.diagnostics.map(\.description))
            #expect(fast.recordsRead == general.recordsRead)
            #expect(fast.recordsRejected == general.recordsRejected)
            #expect(fast.documentsSkipped == general.documentsSkipped)
            #expect(fast.accountNames.elements.map(\.key).sorted() == general.accountNames.elements.map(\.key).sorted())
        }
    }

    /// Random damage to real-shaped records — bytes replaced by JSON's structural characters, spans
    /// cut out or doubled — must still read the same by both paths: the fast path (C, raw pointers) gives
    /// up on whatever it does not expect and never reads differently. 300 documents per seed.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func damagedRecordsReadTheSameByBothPaths(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        let alphabet = Array("{}[]\":, \n\\tnul0-e".utf8)
        for _ in 0..<300 {
            let shape = Self.shapes[Int(rng.next() % UInt64(Self.shapes.count))]
            var bytes = Array(Self.documents(shape)[Int(rng.next() % 2)].utf8)
            for _ in 0..<(1 + rng.next() % 4) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: bytes.removeSubrange(at..<min(bytes.count, at + 1 + Int(rng.next() % 40)))
                default: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + Int(rng.next() % 40))], at: at)
                }
                if bytes.isEmpty { bytes = Array(Self.compact.utf8) }
            }
            let chunkSize = [7, 64, 4096][Int(rng.next() % 3)]
            let (fast, general) = Self.readByBothPaths(bytes, chunkSize: chunkSize)
            let document = String(decoding: bytes, as: UTF8.self)
            #expect(fast.calls == general.calls, "\(document)")
            #expect(fast.events == general.events, "\(document)")
            #expect(fast.diagnostics.map(\.description) == general.diagnostics.map(\.description), "\(document)")
            #expect(fast.recordsRead == general.recordsRead && fast.recordsRejected == general.recordsRejected)
        }
    }

    /// Guards the comparison above from both paths agreeing by the fast one always giving up: it reads
    /// AWS's plain records itself, with every field where the general path finds it.
    @Test(arguments: [compact, launch, compact.replacingOccurrences(of: "\":", with: "\": ")])
    func fastPathReadsPlainRecords(record: String) throws {
        var bytes = Array(record.utf8)
        let count = bytes.count
        bytes += [UInt8](repeating: 0, count: 64)
        let words = (count + 63) / 64 + 1
        var quotes = [UInt64](repeating: 0, count: words)
        var structure = [UInt64](repeating: 0, count: words)
        var newlines = [UInt64](repeating: 0, count: words)
        let hasNewlines = cjson_index(bytes, count, &quotes, &structure, &newlines)
        var r = ctrail_record()
        let end = quotes.withUnsafeBufferPointer { q in
            structure.withUnsafeBufferPointer { s in
                newlines.withUnsafeBufferPointer { n in
                    var bits = cjson_bits(
                        quotes: q.baseAddress, structure: s.baseAddress, newlines: n.baseAddress, origin: 0,
                        has_newlines: hasNewlines)
                    return ctrail_scan(bytes, 0, count, &bits, &r)
                }
            }
        }
        #expect(end == count)
        func text(_ span: ctrail_span) -> String { String(decoding: bytes[span.start..<span.end], as: UTF8.self) }
        #expect(text(r.event_time).hasPrefix("2026-03-01T0"))
        #expect(text(r.event_source) == "ec2.amazonaws.com")
        #expect(text(r.recipient_account_id) == "123456789012")
        #expect(text(r.identity_account_id) == "123456789012")
        #expect(!text(r.identity_arn).isEmpty && !text(r.identity_access_key_id).isEmpty)
        #expect(text(r.user_identity).hasPrefix("{") && text(r.user_identity).hasSuffix("}"))
        #expect(r.identity_parsed == 1 && r.is_digest == 0)
    }

    /// Guards the comparison above: the shapes reach both paths' distinct outcomes.
    @Test func theShapesCoverAcceptedRejectedAndSkippedRecords() {
        let all = Self.shapes.joined(separator: "\n") + "\n"
        let batch = decode(Array(all.utf8), with: CloudTrailDecoder(path: "t.json"), chunkSize: 4096)
        #expect(batch.recordsRejected >= 6)
        #expect(batch.documentsSkipped == 1)
        #expect(batch.calls.count >= 20)
        #expect(batch.calls.contains { $0.principalKey == 0 } && batch.calls.contains { $0.principalKey != 0 })
        #expect(batch.events.count >= 3)
    }
}
