import Foundation
import LogFormats
import TestSupport
import Testing

@testable import Pipeline
import UsageModel

/// Issue 18, item 7: crashes and invalid output found by fuzzing, each now a named rejection.
@Suite(.serialized) struct FuzzFindingsTests {
    @Test func aComputeCallNestedThirtyThousandLevelsDeepIsRejectedNotACrash() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let depth = 40_000
        let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let deep = cloudTrailRecord(name: "RunInstances", request: nested)
        let input = dir.write("deep.json", deep + "\n" + runInstancesRecord(ids: ["i-ok"]) + "\n")
        let result = try BuiltBinary.run(["ingest", "--no-store", input], timeout: 60)
        #expect(result.status == 1, "\(result.stderr.prefix(400))")
        #expect(
            result.stderr.contains(
                "deep.json:1:1: error: [cloudtrail] requestParameters or responseElements nest deeper than 128 levels"))
        #expect(result.stderr.contains("1 session(s)"))
    }

    @Test(arguments: [
        ["--max-record-size", "8388608TiB"], ["--max-decompressed", "9223372036854775808"],
        ["--max-decompressed", "1e30GiB"], ["--syslog", "udp://[::1"], ["--syslog", "tcp://[::1]x:514"],
    ])
    func hugeSizesAndBadSyslogTargetsAreUsageErrors(options: [String]) throws {
        let result = try BuiltBinary.run(
            ["ingest", "--no-store"] + options + [Repository.fixtures(.formatTests) + "/formats/events.ndjson"],
            timeout: 60)
        #expect(result.status == 2, "\(options): \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test(arguments: [
        ("max_record_size = 8388608TiB", "max_record_size"), ("chain_decay = -1", "chain_decay"),
        ("steady_days = -1", "steady_days"), ("time_zone_confidence = 2", "time_zone_confidence"),
        ("holiday_dip = 1.5", "holiday_dip"), ("new_account_min_accelerators = -8", "new_account_min_accelerators"),
        ("linked_share_alpha = 0", "linked_share_alpha"),
        ("structuring_benign_concentration = 0", "structuring_benign_concentration"),
        ("structuring_calling = 2", "structuring_calling"),
        ("ring_trailless = -1", "ring_trailless"),
        ("catalog.x9.huge = NVIDIA H100 SXM5 80GB x 1e308", "catalog override"),
        ("allowed_lateness = 9999999999999999w", "allowed_lateness"), ("session_gap = 400d", "session_gap"),
        ("billing_redelivery = 0s", "billing_redelivery"), ("billing_redelivery = 400d", "billing_redelivery"),
        ("lookback_carry = 2", "lookback_carry"), ("exit_country_keeps_declared = 2", "exit_country_keeps_declared"),
    ])
    func outOfRangeConfigValuesAreRejectedByLine(line: String, key: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = dir.write("c.conf", "# settings\n" + line + "\n")
        let result = try BuiltBinary.run(
            ["ingest", "--no-store", "--config", config, Repository.fixtures(.formatTests) + "/formats/events.ndjson"],
            timeout: 60)
        #expect(result.status == 2, "\(line): \(result.stderr)")
        #expect(result.stderr.contains("c.conf:2: error: [config]"), "\(line): \(result.stderr)")
        #expect(result.stderr.contains(key), "\(line): \(result.stderr)")
    }

    @Test(arguments: [
        ["alerts", "--since", "9999999999999999w"], ["sessions", "--until", "9223372036854775807s"],
        ["prune", "--older-than", "9999999999999999w"],
    ])
    func hugeDurationsOnTheCommandLineAreUsageErrorsNotATrap(arguments: [String]) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let result = try BuiltBinary.run(arguments + ["--store", dir.path + "/s.db"], timeout: 60)
        #expect(result.status == 2, "\(arguments): \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test func absurdQuantitiesAreRejectedByLineAndNoOutputHoldsInfinity() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let focus = try String(
            contentsOfFile: Repository.fixtures(.formatTests) + "/formats/focus-1.2-three-providers.csv",
            encoding: .utf8)
        let lines = focus.split(separator: "\n")
        let row = String(lines[1]).replacingOccurrences(of: ",8,Hours,", with: ",1e308,Hours,")
        let input = dir.write("focus.csv", lines[0] + "\n" + row + "\n")
        let ndjson = dir.write(
            "events.ndjson",
            "{\"account_id\":\"proj-alpha-123\",\"action\":\"usage\",\"time\":\"2026-03-01T00:00:00Z\",\"resource_id\":\"r\",\"instance_type\":\"p5.48xlarge\",\"usage_hours\":1e308}\n"
        )
        let mappings = dir.write(
            "m.csv", "account_id,end_customer_country\nproj-alpha-123,CN\n01AB23-CD45EF-678901,CN\n")
        for style in ["jsonl", "ocsf"] {
            let result = try BuiltBinary.run(
                ["ingest", "--no-store", "--alerts", style, "--mappings", mappings, input, ndjson], timeout: 60)
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr.contains("focus.csv:2: error:"), "\(result.stderr)")
            #expect(result.stderr.contains("usage amount '1e308'"), "\(result.stderr)")
            #expect(
                result.stderr.contains("events.ndjson:1:1: error: [ndjson] usage_hours '1e308'"), "\(result.stderr)")
            #expect(!result.stdout.contains("inf"), "\(result.stdout)")
            #expect(!result.stderr.contains("Fatal error"))
        }
        #expect(JSONWriter.formatNumber(1e308) == "1e+308")
        #expect(JSONWriter.formatNumber(.infinity) == "null")
        #expect(JSONWriter.formatNumber(56.0) == "56.0")
    }

    @Test func controlCharactersInAFileNameAreEscapedOnStderr() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let name = "a\u{1B}]0;owned\u{07}\nforged.json: error: x\u{2028}.json"
        _ = dir.write(name, "{\"account_id\":\"a\",\"action\":\"nonsense\",\"time\":\"2026-03-01T00:00:00Z\"}\n")
        let result = try BuiltBinary.run(["ingest", "--no-store", dir.path], timeout: 60)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(!result.stderr.contains("\u{1B}"))
        #expect(!result.stderr.contains("\u{07}"))
        #expect(!result.stderr.contains("\u{2028}"))
        #expect(
            result.stderr.contains("a\\x1b]0;owned\\x07\\nforged.json: error: x\\u2028.json:1:1: error:"),
            "\(result.stderr)")
        // One diagnostic line and the summary: no forged line.
        #expect(result.stderr.split(separator: "\n").count == 2, "\(result.stderr)")
    }

    @Test func aLastRecordOverTheLimitWhoseStringNeverClosesIsNamed() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let good = cloudTrailRecord()
        let open = "{\"eventVersion\":\"1.09\",\"userAgent\":\"" + String(repeating: "x", count: 3 << 20)
        let input = dir.write("open.json", good + "\n" + open)
        let result = try BuiltBinary.run(["ingest", "--no-store", "--max-record-size", "1MiB", input], timeout: 60)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("open.json:2: error: [json]"), "\(result.stderr)")
    }

    @Test(arguments: [1, 2, 3, 7, 64, 4096])
    func aByteOrderMarkBeforeJSONIsAccepted(chunkSize: Int) throws {
        let text = "\u{FEFF}{\"Records\":[" + runInstancesRecord(ids: ["i-1"]) + "]}\n"
        let batch = decodeCloudTrail(Array(text.utf8), chunkSize: chunkSize)
        #expect(batch.diagnostics.isEmpty, "\(batch.diagnostics)")
        #expect(batch.events.count == 1)
    }

    @Test func aByteOrderMarkBeforeJSONLinesIsAcceptedEndToEnd() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let input = dir.write("bom.json", "\u{FEFF}" + runInstancesRecord(ids: ["i-1"]) + "\n")
        let result = try BuiltBinary.run(["ingest", "--no-store", input], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("1 session(s)"))
    }
}
