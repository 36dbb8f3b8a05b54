import Foundation
import Testing

/// Issue 18: hooks always carry the SPEC's alert JSON, and a hook that cannot run is known at start.
@Suite(.serialized) struct HookPayloadTests {
    /// One input that raises one alert (a declared CN end customer on H100s).
    static func oneAlert(_ dir: TemporaryDirectory) -> [String] {
        let input = dir.write("a.json", runInstancesRecord(ids: ["i-1"], account: "123456789012") + "\n")
        let mappings = dir.write("m.csv", "account_id,end_customer_country\n123456789012,CN\n")
        return ["--mappings", mappings, input]
    }

    @Test func execAndSyslogGetTheAlertJSONWhateverStdoutShows() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let got = dir.path + "/got.json"
        // A UDP syslog receiver on loopback.
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)
        for style in ["text", "ocsf"] {
            try? FileManager.default.removeItem(atPath: got)
            let result = try BuiltBinary.run(
                ["ingest", "--no-store", "--alerts", style, "--exec", "tee -a \(got)", "--syslog", "udp://127.0.0.1:\(port)"]
                    + Self.oneAlert(dir), timeout: 60)
            #expect(result.status == 0, "\(result.stderr)")
            let line = try String(contentsOfFile: got, encoding: .utf8).trimmingCharacters(in: .newlines)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(style): \(line)")
            #expect(object["type"] as? String == "alert", "\(style): \(line)")
            #expect(object["account_id"] as? String == "123456789012")
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            #expect(n > 0)
            let message = String(decoding: buffer[0..<max(n, 0)], as: UTF8.self)
            let body = message.drop { $0 != "]" }.dropFirst().drop { $0 == " " }
            let syslogObject = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            #expect(syslogObject?["type"] as? String == "alert", "\(style): \(message)")
        }
    }

    @Test func aMissingExecutableIsAUsageErrorBeforeAnythingIsRead() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let notExecutable = dir.write("plain.txt", "not a program\n")
        chmod(notExecutable, 0o644)
        for command in ["nosuchcmd-chiptrail", dir.path + "/nothing-here", notExecutable] {
            let result = try BuiltBinary.run(["ingest", "--no-store", "--exec", command] + Self.oneAlert(dir), timeout: 60)
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("is not an executable file"), "\(command): \(result.stderr)")
            #expect(result.stdout.isEmpty)
            #expect(!result.stderr.contains("record(s)"))
        }
    }

    @Test func withoutAStoreAFailedHookDoesNotClaimTheAlertIsStored() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let result = try BuiltBinary.run(
            ["ingest", "--no-store", "--exec", "sh -c 'cat >/dev/null; exit 3'"] + Self.oneAlert(dir), timeout: 60)
        #expect(result.stderr.contains("not delivered after 3 tries"), "\(result.stderr)")
        #expect(!result.stderr.contains("it is in the store"), "\(result.stderr)")
        #expect(result.stderr.contains("--no-store keeps nothing"), "\(result.stderr)")
    }
}
