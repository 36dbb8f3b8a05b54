import CZlib
package import Foundation

/// gzip writer for tests (zlib's deflate with a gzip header).
package enum TestGzip {
    package static func compress(_ data: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        precondition(czlib_deflateInit2(&stream, level, 15 + 16) == Z_OK)
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 64)
        var input = data
        let produced: Int = input.withUnsafeMutableBytes { inBuf in
            out.withUnsafeMutableBytes { outBuf in
                stream.next_in = inBuf.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(inBuf.count)
                stream.next_out = outBuf.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(outBuf.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END)
                return outBuf.count - Int(stream.avail_out)
            }
        }
        return Array(out[0..<produced])
    }

    package static func compress(_ text: String) -> [UInt8] { compress(Array(text.utf8)) }
}

/// A fresh temporary directory, removed by the caller with `remove()`.
package struct TemporaryDirectory {
    package let path: String

    package init(path: String = NSTemporaryDirectory() + "chiptrail-test-" + UUID().uuidString) {
        self.path = path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    package func write(_ name: String, _ bytes: [UInt8]) -> String {
        let full = path + "/" + name
        let dir = (full as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: full, contents: Data(bytes))
        return full
    }

    package func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }

    package func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Builds a CloudTrail record as AWS writes it.
package func cloudTrailRecord(
    name: String = "DescribeInstances", account: String = "123456789012", time: String = "2026-03-01T02:00:00Z",
    ip: String = "198.51.100.7", eventID: String = UUID().uuidString.lowercased(), request: String = "null",
    response: String = "null", error: String? = nil, source: String = "ec2.amazonaws.com"
) -> String {
    let errorPart = error.map { ",\"errorCode\":\"\($0)\"" } ?? ""
    return """
        {"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::\(account):assumed-role/ops/alice","accountId":"\(account)","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::\(account):role/ops","userName":"ops"}}},"eventTime":"\(time)","eventSource":"\(source)","eventName":"\(name)","awsRegion":"us-east-1","sourceIPAddress":"\(ip)","userAgent":"aws-cli/2.15","requestParameters":\(request),"responseElements":\(response)\(errorPart),"requestID":"r-1","eventID":"\(eventID)","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"\(account)"}
        """
}

package func runInstancesRecord(
    type: String = "p5.48xlarge", ids: [String], account: String = "123456789012",
    time: String = "2026-03-01T02:00:00Z", eventID: String = UUID().uuidString.lowercased(), error: String? = nil
) -> String {
    let items = ids.map {
        "{\"instanceId\":\"\($0)\",\"instanceType\":\"\(type)\",\"instanceState\":{\"code\":0,\"name\":\"pending\"}}"
    }
    .joined(separator: ",")
    return cloudTrailRecord(
        name: "RunInstances", account: account, time: time, eventID: eventID,
        request:
            "{\"instancesSet\":{\"items\":[{\"imageId\":\"ami-1\",\"minCount\":1,\"maxCount\":1}]},\"instanceType\":\"\(type)\"}",
        response: error == nil ? "{\"instancesSet\":{\"items\":[\(items)]}}" : "null", error: error)
}

package func lifecycleRecord(
    _ name: String, ids: [String], account: String = "123456789012", time: String,
    eventID: String = UUID().uuidString.lowercased()
) -> String {
    let items = ids.map { "{\"instanceId\":\"\($0)\"}" }.joined(separator: ",")
    return cloudTrailRecord(
        name: name, account: account, time: time, eventID: eventID,
        request: "{\"instancesSet\":{\"items\":[\(items)]}}",
        response: "{\"instancesSet\":{\"items\":[\(items)]}}")
}

/// A chiptrail NDJSON event line, newline included: `action` on `resource`, a p5.48xlarge, at `hour` on 2026-03-01.
package func ndjsonEventLine(_ account: String, _ action: String, _ resource: String, hour: Int) -> String {
    #"{"provider":"aws","account_id":"\#(account)","action":"\#(action)","time":"2026-03-01T\#(String(format: "%02d", hour)):00:00Z","resource_id":"\#(resource)","instance_type":"p5.48xlarge","event_id":"e-\#(action)-\#(resource)"}"#
        + "\n"
}

/// The directory holding the built `chiptrail` binary (beside the test bundle).
package enum BuiltBinary {
    /// Whether script(1) is here to make a pseudo-terminal.
    package static let canUseTerminal = FileManager.default.isExecutableFile(atPath: "/usr/bin/script")

    /// What a shell command writes to a pseudo-terminal (stdout and stderr together), as an operator sees it.
    package static func onTerminal(_ command: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qec", command, "/dev/null"]
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    package static var path: String {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (exe as NSString).deletingLastPathComponent
        // Inside a bundle (…/chiptrailPackageTests.xctest) on some layouts.
        while !dir.isEmpty && dir != "/" {
            let candidate = dir + "/chiptrail"
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return ".build/debug/chiptrail"
    }

    package struct Result {
        package var status: Int32
        package var stdout: String
        package var stderr: String
    }

    /// Runs the binary with `arguments`, optional stdin bytes; waits for it (killed after `timeout`
    /// seconds when given: a hang fails the test instead of stalling the suite). `unprivileged` runs it
    /// as nobody when the tests run as root (permissions mean nothing to root).
    package static func run(
        _ arguments: [String], stdin: [UInt8]? = nil, directory: String? = nil, timeout: Double? = nil,
        unprivileged: Bool = false, environment: [String: String]? = nil
    ) throws -> Result {
        let process = Process()
        if let environment { process.environment = environment }
        if unprivileged && getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", path] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        return try collect(process, stdin: stdin, timeout: timeout)
    }

    /// Runs `process` (set up but for its pipes) with optional stdin bytes, reading its stdout and stderr
    /// concurrently so that neither fills; killed after `timeout` seconds when given.
    package static func collect(_ process: Process, stdin: [UInt8]? = nil, timeout: Double? = nil) throws -> Result {
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        if let timeout {
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                if process.isRunning { kill(pid, SIGKILL) }
            }
        }
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin))
            try input.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so neither fills.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// The repository's root (for SampleLogs and ../shared).
package enum Repository {
    package static var root: String {
        var dir = #filePath
        for _ in 0..<3 { dir = (dir as NSString).deletingLastPathComponent }
        return dir
    }

    /// The fixtures of the test target `owner` (`Tests/<target>/Fixtures`).
    package static func fixtures(_ owner: FixtureOwner) -> String { root + "/Tests/" + owner.rawValue + "/Fixtures" }

    /// Every test target's fixtures folder.
    package static var allFixtures: [String] { FixtureOwner.allCases.map { fixtures($0) } }

    package static var sharedSamples: String? {
        let path = root + "/../shared/samples"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}

/// The targets under Tests/ that keep fixtures, each in its own `Fixtures` folder beside its sources.
package enum FixtureOwner: String, CaseIterable, Sendable {
    case formatTests = "FormatTests"
    case objectStoreTests = "ObjectStoreTests"
    case endToEndTests = "EndToEndTests"
    case s3TestSupport = "S3TestSupport"
}
