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
}
