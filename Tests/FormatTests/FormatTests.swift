import Foundation
import TestSupport
import Testing

@testable import LogFormats
@testable import Pipeline
import UsageModel

/// The decoders of every provider format, on the project's own fixtures (Fixtures/formats), fed in
/// chunks of every size so that records cross buffer boundaries.
@Suite struct BillingFormatTests {
    static let chunks = [1, 7, 64, 4096, 1 << 20]

    @Test(arguments: chunks)
    func curLegacyHourlyLinesBecomeUsage(chunk: Int) {
        let batch = decode(
            fixture("formats/cur-legacy-hourly.csv"), with: BillingDecoder(path: "cur.csv"), chunkSize: chunk)
        #expect(batch.diagnostics.isEmpty, "\(batch.diagnostics)")
        #expect(batch.recordsRead == 9)
        let events = batch.events
        #expect(events.count == 6)
        #expect(events.allSatisfy { $0.action == .usage && $0.provider == .aws && $0.accountID == "111122223333" })
        let p5 = events.filter { $0.instanceType == "p5.48xlarge" }
        #expect(p5.count == 4)
        #expect(
            p5.allSatisfy { $0.resourceID == "i-0aaa1111bbbb2222c" && $0.usageSeconds == 3600 && $0.usageHours == 1 })
        #expect(events.contains { $0.instanceType == "p4d.24xlarge" && $0.resourceID == "i-0spot0000000000001" })
        let training = events.first { $0.instanceType == "ml.p4d.24xlarge" }
        #expect(training?.usageHours == 0.75)
        // Its ARN as the audit log names the job, so the two join (CloudTrailDecoderTests).
        #expect(training?.resourceID == "training-job/llm-finetune")
        // The quoted description spans two lines: the row is named by its first line (CRLF endings).
        #expect(training?.origin.description == "cur.csv:7")
    }

    @Test(arguments: chunks)
    func cur2DailyLinesWithoutResourceIdsAreOneResourcePerTypeAndPlace(chunk: Int) {
        let batch = decode(fixture("formats/cur2-daily.csv"), with: BillingDecoder(path: "cur2.csv"), chunkSize: chunk)
        #expect(batch.diagnostics.isEmpty)
        #expect(batch.events.count == 2)
        #expect(batch.events.allSatisfy { $0.resourceID == "billing:p4d.24xlarge@ap-northeast-1" })
        #expect(batch.events.allSatisfy { $0.usageHours == 48 && $0.usageSeconds == 86_400 })
    }

    @Test(arguments: chunks)
    func focusRowsOfThreeProvidersNameTheirTypes(chunk: Int) {
        let batch = decode(
            fixture("formats/focus-1.2-three-providers.csv"), with: BillingDecoder(path: "focus.csv"), chunkSize: chunk)
        #expect(batch.diagnostics.isEmpty)
        let byProvider = Dictionary(grouping: batch.events, by: \.provider)
        #expect(batch.events.count == 3)
        let gcp = byProvider[.gcp]?.first
        #expect(gcp?.instanceType == "nvidia-h100-80gb")
        #expect(gcp?.resourceID == "projects/proj-alpha-123/zones/us-central1-a/instances/trainer-1")
        #expect(gcp?.accountID == "proj-alpha-123")
        #expect(gcp?.usageHours == 8)
        #expect(byProvider[.aws]?.first?.instanceType == "p5.48xlarge")
        let azure = byProvider[.azure]?.first
        #expect(azure?.instanceType == "Standard_NC24ads_A100_v4")
        #expect(azure?.resourceID.hasPrefix("/subscriptions/aaaa0000") == true)
        #expect(azure?.usageSeconds == 86_400)
    }

    @Test(arguments: [
        ("formats/azure-cost-ea.csv", 3, 60.0),
        ("formats/azure-cost-mca-camel.csv", 1, 20.0),
        ("formats/azure-cost-payg.csv", 1, 20.0),
    ])
    func azureCostExportsOfEveryAgreement(file: String, events: Int, hours: Double) {
        for chunk in Self.chunks {
            let batch = decode(fixture(file), with: BillingDecoder(path: file), chunkSize: chunk)
            #expect(batch.diagnostics.isEmpty, "\(file): \(batch.diagnostics)")
            #expect(batch.events.count == events, "\(file)")
            #expect(batch.events.reduce(0) { $0 + $1.usageHours } == hours, "\(file)")
            #expect(
                batch.events.allSatisfy { $0.provider == .azure && $0.instanceType?.hasPrefix("Standard_") == true })
            #expect(batch.events.allSatisfy { $0.resourceID == $0.resourceID.lowercased() })
        }
    }

    @Test func eaDatesAndUnitMultipliers() {
        let batch = decode(
            fixture("formats/azure-cost-ea.csv"), with: BillingDecoder(path: "ea.csv"), chunkSize: 1 << 20)
        // 03/01/2026 and 3/3/2026; "10 Hours" x 2.4 is a day.
        #expect(batch.events.map(\.time) == [1_772_323_200, 1_772_409_600, 1_772_496_000])
        #expect(batch.events.first?.usageHours == 24)
        #expect(batch.events.first?.instanceType == "Standard_ND96asr_v4")
        #expect(batch.events.last?.instanceType == "Standard_NC24ads_A100_v4")
    }

    @Test func aRowWithTheWrongColumnCountIsNamedAndTheRestRead() {
        let batch = decode(
            fixture("formats/cur-wrong-columns.csv"), with: BillingDecoder(path: "bad.csv"), chunkSize: 64)
        #expect(batch.events.count == 2)
        #expect(batch.recordsRejected == 1)
        #expect(
            batch.diagnostics.map(\.description) == [
                "bad.csv:3: error: [csv] row has 7 field(s), the header 6; row skipped (a comma or quote inside an unquoted field?)"
            ])
    }

    @Test(arguments: [
        ("formats/unknown-header.csv", "names no billing layout"),
        ("formats/azure-cost-german.csv", "localised column names"),
    ])
    func anUnreadableHeaderIsOneDiagnostic(file: String, message: String) {
        let batch = decode(fixture(file), with: BillingDecoder(path: file), chunkSize: 16)
        #expect(batch.events.isEmpty)
        #expect(batch.diagnostics.count == 1)
        #expect(batch.diagnostics.first?.message.contains(message) == true)
        #expect(batch.diagnostics.first?.description.hasPrefix(file + ":1: error: [format]") == true)
    }

    @Test(arguments: [
        ("a,b\n1,2\n", [["a", "b"], ["1", "2"]]),
        ("a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n", [["a", "b"], ["x,y", "say \"hi\""]]),
        ("a,b\n\"two\nlines\",z\nlast,row", [["a", "b"], ["two\nlines", "z"], ["last", "row"]]),
        ("a,,c\n,,\n", [["a", "", "c"], ["", "", ""]]),
    ])
    func csvRecordsFollowRFC4180(text: String, expected: [[String]]) {
        for chunk in [1, 2, 3, 1 << 10] {
            let bytes = Array(text.utf8)
            let reader = CSVRecordReader()
            var out: [[String]] = []
            var pending: [UInt8] = []
            var offset = 0
            while offset < bytes.count || !pending.isEmpty {
                let end = min(bytes.count, offset + chunk)
                pending += bytes[offset..<end]
                offset = end
                let isFinal = offset == bytes.count
                var position = 0
                pending.withUnsafeBufferPointer { p in
                    while let (record, next) = reader.next(
                        p.baseAddress!, count: p.count, position: position, isFinal: isFinal)
                    {
                        out.append((0..<record.count).map { record.string($0) })
                        position = next
                    }
                }
                pending.removeFirst(position)
                if isFinal { break }
            }
            #expect(out == expected, "chunk \(chunk)")
        }
    }
}

@Suite struct AuditFormatTests {
    @Test(arguments: [1, 9, 4096, 1 << 20])
    func gcpAuditInstancesLifecycle(chunk: Int) {
        let batch = decode(
            fixture("formats/gcp-audit.jsonl"), with: JSONLogDecoder.gcpAudit(path: "gcp.jsonl"), chunkSize: chunk)
        #expect(batch.diagnostics.isEmpty, "\(batch.diagnostics)")
        #expect(batch.calls.count == 9)
        let actions = batch.events.map {
            "\($0.action.rawValue) \($0.resourceID.split(separator: "/").last!) \($0.instanceType ?? "-") \($0.instanceCount)"
        }
        #expect(
            actions == [
                "launch trainer-1 a3-highgpu-8g 1",
                "launch n1-gpu nvidia-tesla-a100 4",
                "stop n1-gpu - 1",
                "start n1-gpu - 1",
                "terminate n1-gpu - 1",
                "launch denied-1 a2-highgpu-8g 1",
                "failed denied-1 - 1",
            ])
        #expect(batch.events.allSatisfy { $0.provider == .gcp && $0.accountID == "proj-alpha-123" })
        #expect(batch.events.first?.principal == "ml-admin@example.com")
        #expect(batch.events.first?.sourceIP?.description == "203.0.113.7")
    }

    @Test(arguments: ["formats/azure-activity-records.json", "formats/azure-activity-lines.json"])
    func azureActivityInBothShapes(file: String) {
        for chunk in [1, 33, 4096, 1 << 20] {
            let batch = decode(fixture(file), with: JSONLogDecoder.azureActivity(path: file), chunkSize: chunk)
            #expect(batch.diagnostics.isEmpty, "\(batch.diagnostics)")
            #expect(batch.calls.count == 6)
            #expect(batch.events.map(\.action) == [.launch, .stop, .terminate])
            let launch = batch.events.first
            #expect(launch?.instanceType == "Standard_ND96isr_H100_v5")
            #expect(launch?.accountID == "dddd0000-1111-2222-3333-444455556666")
            #expect(launch?.resourceID.hasSuffix("virtualmachines/gpu-vm-9") == true)
            #expect(launch?.principal == "ops@contoso.example")
            #expect(batch.events.allSatisfy { $0.resourceID == launch?.resourceID })
        }
    }

    /// A VM write without its size is a launch of no type (the sessionizer still makes it a session:
    /// DetectionTests).
    @Test func aVMWriteWithoutItsSizeIsALaunchOfNoType() {
        let line =
            #"{"time":"2026-03-01T00:00:00Z","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/R/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/V","operationName":"MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE","resultType":"Success","callerIpAddress":"203.0.113.1"}"#
        let batch = decode(Array(line.utf8), with: JSONLogDecoder.azureActivity(path: "a.json"), chunkSize: 64)
        #expect(batch.events.count == 1)
        #expect(batch.events.first?.action == .launch)
        #expect(batch.events.first?.instanceType == nil)
    }

    @Test func chiptrailNDJSONCarriesAnyProvider() {
        let batch = decode(
            fixture("formats/events.ndjson"), with: JSONLogDecoder.ndjson(path: "e.ndjson"), chunkSize: 5)
        #expect(batch.diagnostics.isEmpty)
        #expect(batch.calls.count == 4)
        #expect(batch.calls.filter(\.isSignIn).count == 1)
        #expect(batch.events.map(\.action) == [.launch, .terminate, .usage])
        #expect(batch.events[0].provider == .oci && batch.events[0].instanceType == "BM.GPU.H100.8")
        #expect(batch.events[2].usageHours == 6 && batch.events[2].usageSeconds == 21_600)
    }

    @Test(arguments: [
        (#"{"account_id":"a","action":"launch","time":"2026-03-01T00:00:00Z"}"#, "without resource_id"),
        (#"{"account_id":"a","action":"explode","time":"2026-03-01T00:00:00Z","resource_id":"r"}"#, "is none of"),
        (#"{"account_id":"a","action":"launch","time":"yesterday","resource_id":"r"}"#, "not an RFC 3339"),
    ])
    func badNDJSONEventsAreNamed(line: String, message: String) {
        let text = #"{"account_id":"a","action":"call","time":"2026-03-01T00:00:00Z"}"# + "\n" + line + "\n"
        let batch = decode(Array(text.utf8), with: JSONLogDecoder.ndjson(path: "e.ndjson"), chunkSize: 7)
        #expect(batch.recordsRejected == 1)
        #expect(batch.diagnostics.first?.description.hasPrefix("e.ndjson:2:") == true)
        #expect(batch.diagnostics.first?.message.contains(message) == true)
    }

    @Test(arguments: [
        (#"{"Records":[{"eventVersion":"1.08"}]}"#, JSONFlavour.cloudtrail),
        (#"{"insertId":"x","protoPayload":{"methodName":"m"}}"#, .gcpAudit),
        (#"{"records":[{"time":"t","resourceId":"/x","operationName":"o"}]}"#, .azureActivity),
        (#"{"account_id":"a","action":"call"}"#, .ndjson),
        (#"{"eventTime":"t","eventSource":"s3.amazonaws.com","requestParameters":{"operationName":"x"}}"#, .cloudtrail),
    ])
    func jsonFormatIsToldByItsKeys(text: String, flavour: JSONFlavour) {
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { ContentSniffer.jsonFlavour($0) } == flavour)
    }
}

/// The built binary over every format, as a user runs it.
@Suite struct FormatEndToEndTests {
    @Test(
        .enabled(if: Repository.sharedSamples != nil, "../shared/samples is not beside the repository"),
        arguments: ["cloudtrail", "cur", "focus", "gcp-audit", "azure-activity", "azure-cost"])
    func everySharedSampleFolderReadsCleanly(folder: String) throws {
        let samples = try #require(Repository.sharedSamples)
        let result = try BuiltBinary.run(["ingest", "--no-store", samples + "/" + folder])
        #expect(result.status == 0, "\(folder): \(result.stderr)")
        #expect(!result.stderr.contains("error:"), "\(folder): \(result.stderr)")
        #expect(!result.stderr.contains("warning:"), "\(folder): \(result.stderr)")
    }

    @Test func everyFixtureFormatIsToldByContentNotByName() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // Names that say nothing (and one that lies).
        let files = [
            ("formats/cur-legacy-hourly.csv", "a.log"), ("formats/cur2-daily.csv", "b"),
            ("formats/focus-1.2-three-providers.csv", "c.json"),
            ("formats/azure-cost-ea.csv", "d.txt"), ("formats/gcp-audit.jsonl", "e.csv"),
            ("formats/azure-activity-records.json", "f"),
            ("formats/events.ndjson", "g"),
        ]
        var paths: [String] = []
        for (name, alias) in files { paths.append(dir.write(alias + ".gz", TestGzip.compress(fixture(name)))) }
        let store = dir.path + "/s.db"
        let result = try BuiltBinary.run(["ingest", "--store", store] + paths)
        #expect(result.status == 0, "\(result.stderr)")
        let sessions = try BuiltBinary.run([
            "query", "--store", store, "--output", "csv",
            "SELECT provider, COUNT(*) FROM sessions GROUP BY provider ORDER BY provider",
        ])
        // GCP: the FOCUS GPU line of trainer-1 and its audit-log insert are one session (fusion across formats).
        #expect(sessions.stdout == "provider,COUNT(*)\naws,6\nazure,4\ngcp,3\noci,1\nother,1\n")
        let trainer = try BuiltBinary.run([
            "query", "--store", store, "--output", "csv",
            "SELECT instance_type, accelerator_hours FROM sessions WHERE resource_id LIKE '%trainer-1'",
        ])
        #expect(trainer.stdout == "instance_type,accelerator_hours\na3-highgpu-8g,99.988889\n")
    }

    @Test(arguments: [
        ("formats/cur-wrong-columns.csv", "cur-wrong-columns.csv:3: error: [csv] row has 7 field(s)"),
        ("formats/unknown-header.csv", "unknown-header.csv:1: error: [format] CSV header names no billing layout"),
        ("formats/azure-cost-german.csv", "azure-cost-german.csv:1: error: [format] localised column names"),
        ("formats/unknown-json.json", "unknown-json.json: error: [format] JSON of no shape chiptrail reads"),
    ])
    func badInputIsOneDiagnosticAndExitOne(file: String, diagnostic: String) throws {
        let result = try BuiltBinary.run(["ingest", "--no-store", Repository.fixtures(.formatTests) + "/" + file])
        #expect(result.status == 1)
        let errors = result.stderr.split(separator: "\n").filter { $0.contains("error:") }
        #expect(errors.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(diagnostic), "\(result.stderr)")
    }

    @Test func formatOverridesContent() throws {
        let cur = Repository.fixtures(.formatTests) + "/formats/cur-legacy-hourly.csv"
        let forced = try BuiltBinary.run(["ingest", "--no-store", "--format", "focus", cur])
        #expect(forced.status == 1)
        #expect(forced.stderr.contains("not what --format focus names"))
        let right = try BuiltBinary.run(["ingest", "--no-store", "--format", "cur", cur])
        #expect(right.status == 0, "\(right.stderr)")
        let unknown = try BuiltBinary.run([
            "ingest", "--no-store", "--format", "ndjson",
            Repository.fixtures(.formatTests) + "/formats/unknown-json.json",
        ])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("event without account_id or action"))
    }

    /// Audit log and billing export of one run, read in either order (neither name carries a delivery
    /// time, so they are read in path order, whatever order they are named in): one session in the store
    /// with the billed accelerator-hours, and one alert, raised at the first decision that sees the run
    /// (the link is declared) and pointing at that session — under the id the session has once both are read.
    @Test(arguments: [false, true]) func fusedSessionAlertsOnceInEitherOrder(billingFirst: Bool) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let trail = dir.write(
            billingFirst ? "b-trail.json" : "a-trail.json",
            "{\"Records\":["
                + runInstancesRecord(ids: ["i-0fused"], account: "111122223333", time: "2026-03-01T00:10:00Z") + ","
                + lifecycleRecord(
                    "TerminateInstances", ids: ["i-0fused"], account: "111122223333", time: "2026-03-01T03:10:00Z")
                + "]}")
        var cur =
            "lineItem/UsageAccountId,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/UsageType,lineItem/ResourceId,lineItem/UsageAmount\n"
        for h in 0...3 {
            cur +=
                "111122223333,2026-03-01T0\(h):00:00Z,2026-03-01T0\(h + 1):00:00Z,BoxUsage:p5.48xlarge,i-0fused,\(h == 0 ? "0.8333333333" : h == 3 ? "0.1666666667" : "1")\n"
        }
        let billing = dir.write(billingFirst ? "a-cur.csv" : "b-cur.csv", cur)
        let mappings = dir.write(
            "m.csv",
            "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\naws,111122223333,,C-1,CN,2025-01-01T00:00:00Z,\n"
        )
        let store = dir.path + "/s.db"
        let inputs = billingFirst ? [billing, trail] : [trail, billing]
        // Named the other way round: read in the order of the names.
        let result = try BuiltBinary.run(
            ["ingest", "--store", store, "--jobs", "1", "--mappings", mappings] + inputs.reversed())
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        try #require(lines.count == 1, "\(result.stdout)")
        let alert = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        let origins = alert?["events"] as? [String] ?? []
        // Billing first: alerted when it is read (nothing else is held). Audit log first: its launch is
        // held for the event-time frontier, the billing lines join the run as they come, and the tick after
        // the launch alerts the fused session.
        #expect(origins.contains { $0.hasPrefix(inputs[0]) }, "\(origins)")
        let evidence = (alert?["evidence"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(evidence.contains(billingFirst ? "billing" : "declared-country"), "\(evidence)")
        let rows = try BuiltBinary.run([
            "query", "--store", store, "--output", "csv",
            "SELECT s.accelerator_hours, s.open, a.session_id = s.id FROM sessions s, alerts a WHERE s.resource_id = 'i-0fused'",
        ])
        #expect(rows.stdout == "accelerator_hours,open,a.session_id = s.id\n24.0,0,1\n", "\(rows.stdout)")
    }
}

@Suite struct AzureRESTShapeTests {
    /// The REST API / portal shape: `eventTimestamp`, `operationName.value`, `status.value`,
    /// `httpRequest.clientIpAddress`, `caller`, `subscriptionId`.
    @Test func restEventsAreReadToo() {
        let event = #"""
            {"value":[{"caller":"ops@contoso.example","eventDataId":"e-1","eventTimestamp":"2026-03-01T00:00:00.1234567Z","httpRequest":{"clientIpAddress":"203.0.113.80"},"operationName":{"value":"Microsoft.Compute/virtualMachines/write","localizedValue":"Create or Update Virtual Machine"},"resourceId":"/subscriptions/EEEE0000-1111-2222-3333-444455556666/resourceGroups/ML/providers/Microsoft.Compute/virtualMachines/rest-vm","status":{"value":"Succeeded","localizedValue":"Succeeded"},"subscriptionId":"EEEE0000-1111-2222-3333-444455556666","properties":{"responseBody":"{\"properties\":{\"hardwareProfile\":{\"vmSize\":\"Standard_ND96amsr_A100_v4\"}}}"}}]}
            """#
        for chunk in [3, 1 << 16] {
            let batch = decode(
                Array(event.utf8), with: JSONLogDecoder.azureActivity(path: "rest.json"), chunkSize: chunk)
            #expect(batch.diagnostics.isEmpty, "\(batch.diagnostics)")
            #expect(batch.events.count == 1)
            let e = batch.events.first
            #expect(e?.action == .launch)
            #expect(e?.instanceType == "Standard_ND96amsr_A100_v4")
            #expect(e?.principal == "ops@contoso.example")
            #expect(e?.sourceIP?.description == "203.0.113.80")
            #expect(e?.accountID == "eeee0000-1111-2222-3333-444455556666")
        }
    }
}
