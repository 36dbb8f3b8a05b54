import Foundation
import TestSupport
import Testing

/// Issue 18, item 10: the smaller command-line promises.
@Suite(.serialized) struct CommandLineTests {
    @Test func bareChiptrailPrintsHelpAndExitsTwo() throws {
        let result = try BuiltBinary.run([], timeout: 60)
        #expect(result.status == 2)
        #expect(result.stderr.contains("USAGE: chiptrail <subcommand>"))
        #expect(result.stdout.isEmpty)
    }

    @Test func catalogTakesOutputJSONAndKeepsJSONAsAHiddenAlias() throws {
        let output = try BuiltBinary.run(["catalog", "--output", "json", "p5.48xlarge"], timeout: 60)
        let alias = try BuiltBinary.run(["catalog", "--json", "p5.48xlarge"], timeout: 60)
        #expect(output.status == 0)
        #expect(output.stdout.contains("\"accelerator\":\"NVIDIA H100 SXM5 80GB\""))
        #expect(alias.stdout == output.stdout)
        let help = try BuiltBinary.run(["catalog", "--help"], timeout: 60)
        #expect(help.stdout.contains("--output"))
        #expect(!help.stdout.contains("--json"))
        #expect(try BuiltBinary.run(["catalog", "--output", "xml"], timeout: 60).status == 2)
    }

    @Test(arguments: [
        ["--help"], ["ingest", "--help"], ["tail", "--help"], ["query", "--help"], ["catalog", "--help"],
    ])
    func helpExamplesAreNotWrappedMidCommand(arguments: [String]) throws {
        let help = try BuiltBinary.run(arguments, timeout: 60)
        let text = help.stdout + help.stderr
        var inExamples = false
        var seen = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Examples:") || line.hasPrefix("Start with:") {
                inExamples = true
                continue
            }
            if line.isEmpty {
                inExamples = false
                continue
            }
            guard inExamples else { continue }
            seen += 1
            // A wrapped fragment starts at column 0; every example line (and continuation) is indented.
            #expect(line.hasPrefix("  "), "\(arguments): '\(line)'")
            #expect(line.count <= 80, "\(arguments): '\(line)'")
        }
        #expect(seen > 0)
    }

    @Test func tailSaysItStartedAlsoWhenStderrIsNotATerminal() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.path + "/in", withIntermediateDirectories: true)
        let result = try BuiltBinary.run(
            ["tail", "--store", dir.path + "/s.db", "--once", dir.path + "/in"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let first = result.stderr.split(separator: "\n").first ?? ""
        #expect(
            first.hasPrefix("chiptrail: tail following \(dir.path)/in into \(dir.path)/s.db (pid "), "\(result.stderr)")
    }

    @Test func storedAlertsAreReEmittedExactlyAsTheyWereSent() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        for style in ["jsonl", "ocsf"] {
            let store = dir.path + "/\(style).db"
            let sent = try BuiltBinary.run(
                ["ingest", "--store", store, "--quiet", "--alerts", style]
                    + Array(EndToEndTests.sampleArguments().dropFirst(2)),
                timeout: 120)
            #expect(sent.status == 0, "\(sent.stderr)")
            let again = try BuiltBinary.run(["alerts", "--store", store, "--output", style], timeout: 60)
            #expect(again.status == 0, "\(again.stderr)")
            let sentLines = sent.stdout.split(separator: "\n").sorted()
            #expect(sentLines.count == 4)
            #expect(again.stdout.split(separator: "\n").sorted() == sentLines, "\(style)")
            let filtered = try BuiltBinary.run(
                ["alerts", "--store", store, "--output", style, "--min-score", "0.9"], timeout: 60)
            #expect(filtered.stdout.split(separator: "\n").count == 3)
        }
        #expect(
            try BuiltBinary.run(["sessions", "--store", dir.path + "/jsonl.db", "--output", "ocsf"], timeout: 60).status
                == 2)
    }

    /// On a 120-column terminal the alerts table keeps account ids and times whole: columns that do
    /// not fit are left out and named, never cut.
    @Test(.enabled(if: BuiltBinary.canUseTerminal, "script(1) is not installed (a pseudo-terminal is needed)"))
    func aNarrowTerminalLeavesColumnsOutInsteadOfCuttingIds() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = dir.path + "/c.db"
        _ = try StoreTests.ingest(store)
        let screen = try BuiltBinary.onTerminal("stty cols 120; \(BuiltBinary.path) alerts --store \(store)")
        #expect(screen.contains("111111111111") && !screen.contains("…"), "\(screen)")
        #expect(screen.contains("left out to fit 120 columns:"), "\(screen)")
        for line in screen.split(whereSeparator: \.isNewline) {
            #expect(line.trimmingCharacters(in: .whitespaces).count <= 120)
        }
    }

    @Test(.enabled(if: BuiltBinary.canUseTerminal, "script(1) is not installed (a pseudo-terminal is needed)"))
    func theProgressLineIsClearedBeforeAnAlertLine() throws {
        let sample = Repository.root + "/SampleLogs"
        // stdout and stderr on the same terminal, as an operator runs it.
        let command =
            "\(BuiltBinary.path) ingest --no-store --jobs 1 --mappings \(sample)/mappings.csv --resellers \(sample)/resellers.csv \(sample)/AWSLogs"
        let terminal = try BuiltBinary.onTerminal(command)
        #expect(terminal.contains("/80 files"))
        var alerts = 0
        for line in terminal.split(separator: "\n") {
            guard let at = line.range(of: "{\"type\":\"alert\"") else { continue }
            alerts += 1
            let before = line[..<at.lowerBound]
            #expect(before.isEmpty || before == "\r" || before.hasSuffix("\u{1B}[K"), "\(line.prefix(120))")
        }
        #expect(alerts > 0)
    }
}
