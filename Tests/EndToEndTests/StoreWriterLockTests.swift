import Foundation
import TestSupport
import Testing

/// Issue 18: one writer per store.
@Suite(.serialized) struct StoreWriterLockTests {
    @Test func aSecondWriterIsRefusedNamingTheHolderAndReadersStillWork() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        _ = dir.write("in/a.json", runInstancesRecord(ids: ["i-1"], account: "123456789012") + "\n")
        let store = dir.path + "/s.db"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: BuiltBinary.path)
        p.arguments = ["tail", "--store", store, "--poll-interval", "0.05", "--quiet", dir.path + "/in"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer {
            kill(p.processIdentifier, SIGTERM)
            p.waitUntilExit()
        }
        TailTests.waitUntilReady(p)
        try TailTests.waitFor(dir.path, "SELECT COUNT(*) FROM files", "1")
        for command in ["ingest", "tail"] {
            let second = try BuiltBinary.run(
                [command, "--store", store, "--once", dir.path + "/in"].filter { command == "tail" || $0 != "--once" },
                timeout: 60)
            #expect(second.status == 2, "\(command): \(second.stderr)")
            #expect(
                second.stderr.contains("the store is being written by process \(p.processIdentifier) (chiptrail tail)"),
                "\(command): \(second.stderr)")
        }
        let query = try BuiltBinary.run(
            ["query", "--store", store, "--output", "csv", "SELECT COUNT(*) FROM files"], timeout: 60)
        #expect(query.status == 0, "\(query.stderr)")
        #expect(query.stdout == "COUNT(*)\n1\n")
        for command in ["alerts", "sessions"] {
            let read = try BuiltBinary.run([command, "--store", store], timeout: 60)
            #expect(read.status == 0, "\(command): \(read.stderr)")
        }
    }
}
