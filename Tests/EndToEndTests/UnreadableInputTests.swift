import Foundation
import TestSupport
import Testing

/// Issue 18: every input that cannot be read is named on stderr and counted in the exit status, and
/// no tree — loops, special files — can hang a run.
@Suite(.serialized) struct UnreadableInputTests {
    static func goodTrail(_ dir: TemporaryDirectory, _ name: String = "logs/a-good.json") {
        _ = dir.write(name, runInstancesRecord(ids: ["i-good"], account: "123456789012") + "\n")
    }

    @Test func aSubdirectoryWithoutReadPermissionIsNamedAndTheStatusIsOne() throws {
        let dir = TemporaryDirectory()
        defer {
            chmod(dir.path + "/logs/locked", 0o755)
            dir.remove()
        }
        Self.goodTrail(dir)
        Self.goodTrail(dir, "logs/locked/b.json")
        chmod(dir.path, 0o755)
        chmod(dir.path + "/logs", 0o755)
        chmod(dir.path + "/logs/a-good.json", 0o644)
        chmod(dir.path + "/logs/locked", 0o000)
        let result = try BuiltBinary.run(["ingest", "--no-store", dir.path + "/logs"], timeout: 60, unprivileged: true)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(
            result.stderr.contains("logs/locked: error: [input] cannot read directory: permission denied"),
            "\(result.stderr)")
        #expect(result.stderr.contains("read 1 file(s)"), "\(result.stderr)")
    }

    @Test func aDirectoryHoldingTwoLinksToItselfEnds() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        Self.goodTrail(dir)
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/logs/self1", withDestinationPath: ".")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/logs/self2", withDestinationPath: "..")
        let result = try BuiltBinary.run(["ingest", "--no-store", dir.path + "/logs"], timeout: 60)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("logs/self1: error: [input] directory loop"), "\(result.stderr)")
        #expect(result.stderr.contains("read 1 file(s)"), "\(result.stderr)")
    }

    @Test func aSymbolicLinkLoopAndADanglingLinkAreNamed() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        Self.goodTrail(dir)
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/logs/x", withDestinationPath: "y")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/logs/y", withDestinationPath: "x")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/logs/z", withDestinationPath: "gone")
        let result = try BuiltBinary.run(["ingest", "--no-store", dir.path + "/logs"], timeout: 60)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("logs/x: error: [input] symbolic link loop"), "\(result.stderr)")
        #expect(result.stderr.contains("logs/z: error: [input] symbolic link to nothing"), "\(result.stderr)")
        let alone = try BuiltBinary.run(["ingest", "--no-store", dir.path + "/logs/x"], timeout: 60)
        #expect(alone.status == 1, "\(alone.stderr)")
        #expect(alone.stderr.contains("logs/x: error: [input] symbolic link loop"), "\(alone.stderr)")
    }

    @Test func aFIFOInATreeIsSkippedWithAMessageNotOpened() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        Self.goodTrail(dir)
        #expect(mkfifo(dir.path + "/logs/pipe.json", 0o644) == 0)
        let result = try BuiltBinary.run(["ingest", "--no-store", dir.path + "/logs"], timeout: 60)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(
            result.stderr.contains("logs/pipe.json: error: [input] a FIFO (named pipe), not a regular file; skipped"),
            "\(result.stderr)")
        #expect(result.stderr.contains("read 1 file(s)"), "\(result.stderr)")
    }

    @Test func tailNamesAMissingPathOnceAndAgainWhenItAppears() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: BuiltBinary.path)
        p.arguments = [
            "tail", "--store", dir.path + "/s.db", "--poll-interval", "0.05", "--quiet", dir.path + "/later",
        ]
        FileManager.default.createFile(atPath: dir.path + "/err.txt", contents: nil)
        p.standardError = FileHandle(forWritingAtPath: dir.path + "/err.txt")!
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        TailTests.waitUntilReady(p)
        usleep(1_000_000)  // twenty scans
        try FileManager.default.createDirectory(atPath: dir.path + "/later", withIntermediateDirectories: true)
        var stderr = ""
        for _ in 0..<200 {
            stderr = (try? String(contentsOfFile: dir.path + "/err.txt", encoding: .utf8)) ?? ""
            if stderr.contains("now present") { break }
            usleep(50_000)
        }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        let missing = stderr.components(separatedBy: "later: error: [input] no such file or directory").count - 1
        #expect(missing == 1, "\(stderr)")
        #expect(stderr.contains("later: note: [input] now present; following it"), "\(stderr)")
    }
    /// `tail`'s daemon walk asks each listed file's status (its change time: what changed after the wake
    /// began waits for the next one); a file whose status cannot be read is named, not skipped without a
    /// word. Run as nobody when the tests run as root (root reads every folder), so CI sees it too:
    /// `BoundedWakeTests.aFileWhoseStatusCannotBeReadIsNamed` is the same at the walk, skipped as root.
    @Test(
        .enabled(
            if: geteuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
            "as root it runs tail as nobody through setpriv"))
    func tailNamesAFileWhoseStatusItCannotRead() throws {
        let dir = TemporaryDirectory()
        let day = dir.path + "/in/AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/"
        defer {
            chmod(day + "02", 0o755)
            dir.remove()
        }
        func trail(_ id: String, _ time: String) -> String {
            "{\"Records\":[" + runInstancesRecord(ids: [id], account: "111122223333", time: time) + "]}"
        }
        _ = dir.write(
            "in/AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/01/111122223333_CloudTrail_us-east-1_20260901T0005Z_a.json",
            trail("i-0a", "2026-09-01T00:00:00Z"))
        let hidden = dir.write(
            "in/AWSLogs/111122223333/CloudTrail/us-east-1/2026/09/02/111122223333_CloudTrail_us-east-1_20260902T0005Z_b.json",
            trail("i-0b", "2026-09-02T00:00:00Z"))
        var folder = day + "02"
        while folder.count > dir.path.count {
            chmod(folder, 0o755)
            folder = (folder as NSString).deletingLastPathComponent
        }
        chmod(dir.path, 0o777)
        // Listable (its names are read), not searchable (their status is not).
        chmod(day + "02", 0o644)
        let p = Process()
        let arguments = ["tail", "--store", dir.path + "/s.db", "--poll-interval", "0.05", dir.path + "/in"]
        if geteuid() == 0 {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", BuiltBinary.path] + arguments
        } else {
            p.executableURL = URL(fileURLWithPath: BuiltBinary.path)
            p.arguments = arguments
        }
        let errPath = dir.write("stderr.txt", "")
        p.standardError = FileHandle(forWritingAtPath: errPath)!
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let said = hidden + ": error: [input] cannot read the file's status again: permission denied"
        var stderr = ""
        for _ in 0..<600 where !stderr.contains(said) {
            usleep(50_000)
            stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        }
        // A few more wakes (every 0.05 s): said once while it stays so, not at every wake.
        usleep(500_000)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        #expect(stderr.components(separatedBy: said).count - 1 == 1, "\(stderr)")
        #expect(p.terminationStatus == 0, "\(stderr)")
    }
}
