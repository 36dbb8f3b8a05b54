import Foundation
import ObjectStore
package import TestSupport

/// moto in server mode on loopback with the fault-injecting proxy in front of it
/// (Fixtures/s3-fixture.py), started once for the tests that need it and stopped when the test
/// process ends (its standard input closes).
package final class S3Fixture: @unchecked Sendable {
    package let motoPort: Int
    package let proxyPort: Int
    private let process: Process
    private let stdin: Pipe

    /// Whether moto's server and boto3 can be imported (`pip install 'moto[server]'`).
    package static let available: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import moto.server, boto3, werkzeug"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    package static let script = Repository.fixtures(.s3TestSupport) + "/s3-fixture.py"

    /// A local directory holding `large.json`: 32 MB of plain (not gzip'd) CloudTrail JSON lines, also
    /// uploaded as `s3://large/trail/large.json`.
    /// (One fixed directory, written again by each test run, so runs leave no copies behind.)
    package static let largeDirectory: TemporaryDirectory = {
        let dir = TemporaryDirectory(path: NSTemporaryDirectory() + "chiptrail-test-s3-large")
        return dir
    }()

    /// Keys that need encoding in a URL, in XML or in a signature, uploaded to bucket `odd` under `keys/`.
    package static let oddNames = [
        "a b.json", "c+d.json", "e&f<g>'h\".json", "percent%20i.json", "ü/é ñ.json", "semi;colon=eq?q#h.json",
        "tilde~star*(paren).json", "trailing space .json",
    ]
    package static let oddDirectory = TemporaryDirectory(path: NSTemporaryDirectory() + "chiptrail-test-s3-odd")

    /// The sample trail in bucket `logs` under `AWSLogs/`, a plain (not gzip'd) JSON-lines trail in
    /// bucket `plain` under `trail/`, and ``largeDirectory`` in bucket `large` under `trail/`.
    package static let shared: S3Fixture? = {
        guard available else { return nil }
        let plain = TemporaryDirectory()
        let lines = (0..<400).map { cloudTrailRecord(name: "DescribeInstances", eventID: "plain-\($0)") }
        _ = plain.write(
            "111111111111_CloudTrail_us-east-1_20260301T0405Z_PLAIN.json", lines.joined(separator: "\n") + "\n")
        var large = ""
        while large.utf8.count < 32 << 20 {
            large += cloudTrailRecord(name: "DescribeInstances", eventID: "large-\(large.utf8.count)") + "\n"
        }
        _ = largeDirectory.write("large.json", large)
        for (n, name) in oddNames.enumerated() {
            _ = oddDirectory.write(name, cloudTrailRecord(eventID: "odd-\(n)") + "\n")
        }
        defer { plain.remove() }
        return try? S3Fixture(uploads: [
            (Repository.root + "/SampleLogs/AWSLogs", "logs", "AWSLogs/"), (plain.path, "plain", "trail/"),
            (largeDirectory.path, "large", "trail/"), (oddDirectory.path, "odd", "keys/"),
        ])
    }()

    /// Empty fixtures of their own for the SQS client's tests, tail's, and tail's visibility heartbeat:
    /// suites run in parallel, and each configures its proxy's faults and reads its counts.
    package static let forQueueClient: S3Fixture? = available ? try? S3Fixture(uploads: []) : nil
    package static let forTail: S3Fixture? = available ? try? S3Fixture(uploads: []) : nil
    package static let forHeartbeat: S3Fixture? = available ? try? S3Fixture(uploads: []) : nil

    package init(uploads: [(directory: String, bucket: String, prefix: String)]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", Self.script] + uploads.flatMap { ["--upload", $0.directory, $0.bucket, $0.prefix] }
        stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let piece = stdout.fileHandleForReading.availableData
            if piece.isEmpty { break }
            line += piece
        }
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Int], let moto = object["moto"],
            let proxy = object["proxy"]
        else {
            process.terminate()
            throw FixtureError(message: "the S3 fixture did not start: \(String(decoding: line, as: UTF8.self))")
        }
        motoPort = moto
        proxyPort = proxy
    }

    package struct FixtureError: Error { package var message: String }

    /// The endpoint through the proxy (faults as configured) and straight to moto.
    package var proxyEndpoint: String { "http://127.0.0.1:\(proxyPort)" }
    package var motoEndpoint: String { "http://127.0.0.1:\(motoPort)" }

    /// Sets the proxy's faults (`slowdown-every=7`, `deny=TEXT`, …; none: no faults) and zeroes its
    /// counts; returns the counts so far.
    @discardableResult
    package func configure(_ faults: [String: String] = [:]) -> [String: Int] {
        request("/__configure", query: faults.map { ($0.key, $0.value) })
    }

    /// The faults injected since the last ``configure(_:)``, by kind, and `ranged`: resumed reads.
    package func faults() -> [String: Int] { request("/__faults", query: []) }

    private func request(_ path: String, query: [(String, String)]) -> [String: Int] {
        let client = HTTPClient()
        let request = HTTPRequest(
            method: "GET", scheme: "http", host: "127.0.0.1:\(proxyPort)", path: path,
            query: query.map { (name: $0.0, value: $0.1) })
        guard case .success(let response) = client.send(request, totalTimeout: 10),
            let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Int]
        else { return [:] }
        return object
    }

    /// Runs one scene-setting boto3 call in the fixture against moto (no faults): `create_bucket`,
    /// `create_queue` (answers `url` and `arn`), `notify` (S3 -> SQS, or through SNS with `topic`),
    /// `subscribe`, `put` (a local `file` to `bucket`/`key`; answers `etag`), `publish`, `send`,
    /// `queue_counts` (answers `visible` and `in_flight`).
    @discardableResult
    package func admin(_ request: [String: String]) throws -> [String: Any] {
        let client = HTTPClient()
        let body = try JSONSerialization.data(withJSONObject: request)
        let http = HTTPRequest(
            method: "POST", scheme: "http", host: "127.0.0.1:\(proxyPort)", path: "/__admin",
            headers: [("Content-Type", "application/json")], body: Array(body))
        guard case .success(let response) = client.send(http, totalTimeout: 30),
            let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        else { throw FixtureError(message: "the fixture did not answer \(request)") }
        if response.status != 200 { throw FixtureError(message: "\(request): \(object["error"] ?? object)") }
        return object
    }

    /// A new queue; its URL and ARN.
    package func makeQueue(_ name: String) throws -> (url: String, arn: String) {
        let answer = try admin(["op": "create_queue", "queue": name])
        return (answer["url"] as? String ?? "", answer["arn"] as? String ?? "")
    }

    /// Messages waiting in `queue` and received but not deleted.
    package func queueCounts(_ url: String) throws -> (visible: Int, inFlight: Int) {
        let answer = try admin(["op": "queue_counts", "url": url])
        return (answer["visible"] as? Int ?? -1, answer["in_flight"] as? Int ?? -1)
    }

    /// An environment for the binary: test credentials, no instance-metadata probe, `extra` on top.
    package static func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("AWS_") { env[key] = nil }
        env["AWS_ACCESS_KEY_ID"] = "test"
        env["AWS_SECRET_ACCESS_KEY"] = "test"
        env["AWS_DEFAULT_REGION"] = "us-east-1"
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        env["HOME"] = NSTemporaryDirectory()
        return env.merging(extra) { $1 }
    }
}
