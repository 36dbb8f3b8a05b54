import Foundation
import GRDB
import LogFormats
import NormalizedRecords
import S3TestSupport
import TestSupport
import Testing
import UsageModel

/// Whether `Scripts/spark-ingest` can run here: pyspark importable and a Java runtime.
enum SparkFixture {
    static let available: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sh", "-c", "python3 -c 'import pyspark' && java -version"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    static let reason: Comment =
        "pyspark or Java is not installed (pip install pyspark==4.3.0; apt-get install openjdk-17-jre-headless)"
}

/// One input set read both ways: SampleLogs beside a generated population (CloudTrail and CUR billing,
/// late and duplicated deliveries), and two damaged inputs so that diagnostics and failed reads go
/// through the stages too. Made once per test run.
struct DistributedCorpus {
    let directory: TemporaryDirectory
    /// The options of ingest (and of spark-ingest).
    let options: [String]
    /// Those of them that change decoding, for `normalize`.
    let decodingOptions: [String]
    let paths: [String]

    static let shared: DistributedCorpus = make()

    static func make() -> DistributedCorpus {
        let directory = TemporaryDirectory()
        let population = directory.path + "/population"
        let generate = Process()
        generate.executableURL = URL(fileURLWithPath: Repository.root + "/Scripts/generate-population")
        generate.arguments = ["--out", population, "--accounts", "40", "--days", "3", "--seed", "7"]
        generate.standardOutput = FileHandle.nullDevice
        try? generate.run()
        generate.waitUntilExit()
        // SampleLogs' resellers that the population does not define (the rest are the same names).
        let defined = Set(
            ((try? String(contentsOfFile: population + "/resellers.csv", encoding: .utf8)) ?? "")
                .split(whereSeparator: \.isNewline).map { String($0.split(separator: ",").first ?? "") })
        let sample = Repository.root + "/SampleLogs"
        let sampleResellers = ((try? String(contentsOfFile: sample + "/resellers.csv", encoding: .utf8)) ?? "")
            .split(whereSeparator: \.isNewline)
        let extra = directory.write(
            "sample-resellers.csv",
            ([sampleResellers[0]]
                + sampleResellers.dropFirst().filter { !defined.contains(String($0.split(separator: ",")[0])) })
                .joined(separator: "\n") + "\n")
        // A gzip object cut short, and a file with one malformed record among good ones.
        let record = cloudTrailRecord(name: "DescribeInstances", eventID: "broken-1")
        let gzip = TestGzip.compress(Array(("{\"Records\":[" + record + "]}").utf8))
        _ = directory.write(
            "broken/111111111111_CloudTrail_us-east-1_20260301T0105Z_CUT.json.gz", Array(gzip.prefix(gzip.count - 9)))
        _ = directory.write(
            "broken/111111111111_CloudTrail_us-east-1_20260301T0110Z_BAD.json",
            cloudTrailRecord(name: "DescribeInstances", eventID: "good-1") + "\n{\"eventTime\": oops}\n")
        return DistributedCorpus(
            directory: directory,
            options: [
                "--mappings", population + "/mappings.csv", "--resellers", population + "/resellers.csv",
                "--geoip", population + "/geoip.csv", "--mappings", sample + "/mappings.csv", "--resellers", extra,
                "--geoip", sample + "/geoip.csv", "--config", sample + "/chiptrail.conf",
            ],
            decodingOptions: [
                "--geoip", population + "/geoip.csv", "--geoip", sample + "/geoip.csv", "--config",
                sample + "/chiptrail.conf",
            ],
            paths: [population + "/logs", sample + "/AWSLogs", directory.path + "/broken"])
    }
}

/// What a run is compared by: alerts (sorted lines), every restricted session's assessment with its
/// score and evidence (`CHIPTRAIL_EVIDENCE_LOG`, sorted lines), the summary's counts (accounts,
/// sessions, alerts, records, duplicates), the other diagnostics, and the exit status.
struct RunResult: Equatable, CustomStringConvertible {
    var status: Int32
    var alerts: [String]
    var assessments: [String]
    var counts: String
    var diagnostics: [String]
    /// The last lines of stderr, shown when runs differ (not compared: Spark's own log is there).
    var stderrTail: String

    static func == (a: Self, b: Self) -> Bool {
        a.status == b.status && a.alerts == b.alerts && a.assessments == b.assessments && a.counts == b.counts
            && a.diagnostics == b.diagnostics
    }

    init(status: Int32, stdout: String, stderr: String, evidenceLog: String) {
        self.status = status
        alerts = stdout.split(separator: "\n").map(String.init).sorted()
        assessments = ((try? String(contentsOfFile: evidenceLog, encoding: .utf8)) ?? "").split(separator: "\n").map(
            String.init
        ).sorted()
        let lines = stderr.split(separator: "\n").map(String.init)
        // The summary without its timing: "read N file(s), X MB in S s (R MB/s); ..." -> counts only.
        counts =
            lines.last { $0.hasPrefix("chiptrail: read ") }.map {
                $0.replacingOccurrences(of: #" in [0-9.]+ s \([0-9.]+ MB/s\)"#, with: "", options: .regularExpression)
            } ?? "no summary"
        diagnostics = lines.filter { $0.contains(": error: ") || $0.contains(": warning: ") }.sorted()
        stderrTail = lines.suffix(6).joined(separator: "\n")
    }

    var description: String {
        "exit \(status); \(alerts.count) alert(s), \(assessments.count) assessment(s); \(counts); \(diagnostics.count) diagnostic(s); stderr ends: \(stderrTail)"
    }
}

@Suite struct NormalizedRecordTests {
    /// A batch with every kind of value: each optional both ways, every position and action.
    static func sampleInput() -> NormalizedInput {
        var batch = DecodedBatch()
        batch.recordsRead = 1_000_000
        batch.recordsRejected = 3
        batch.documentsSkipped = 1
        batch.diagnosticsSuppressed = 7
        batch.report(
            Diagnostic(
                path: "a/b.json.gz", position: .offset(1187), severity: .error, category: "gzip",
                message: "crc; corrupt"))
        batch.report(
            Diagnostic(
                path: "a/b.json.gz", position: .lineColumn(1, 30871), severity: .warning, category: "json",
                message: "ünïcode ✓"))
        batch.report(Diagnostic(path: "a/b.json.gz", position: .line(2), severity: .note, category: "x", message: ""))
        batch.report(
            Diagnostic(path: "a/b.json.gz", position: .file, severity: .error, category: "format", message: "m"))
        _ = batch.accountNames.insert(0, "zero-key")
        _ = batch.accountNames.insert(StableHash.hash("123456789012"), "123456789012")
        _ = batch.identifierNames.insert(42, "role/ops")
        let actions: [ComputeAction] = [.launch, .start, .stop, .terminate, .usage, .failed]
        for (n, action) in actions.enumerated() {
            var event = UsageEvent(
                provider: CloudProvider.allCases[n % CloudProvider.allCases.count], action: action,
                time: -5 + Int64(n) * 1_000_000_007,
                accountID: "acct-\(n)", resourceID: "i-\(n)", instanceType: n.isMultiple(of: 2) ? "p5.48xlarge" : nil,
                instanceCount: n + 1, region: n == 3 ? "" : "us-east-1",
                sourceIP: n.isMultiple(of: 3) ? IPAddress(value: UInt128.max - UInt128(n)) : nil,
                principal: n == 1 ? "" : (n == 2 ? nil : "arn:aws:iam::1:role/x"),
                userAgent: n == 4 ? "aws-cli/2 ✓" : nil,
                eventID: "e-\(n)", eventName: "RunInstances", usageSeconds: Int64(n) * 3600, usageHours: Double(n) / 3,
                origin: EventOrigin(
                    path: n == 5 ? "elsewhere.json" : "a/b.json.gz",
                    position: [InputPosition.file, .line(n), .lineColumn(1, Int64(n) << 33), .offset(-1)][n % 4]))
            event.usageRecords = n * 11
            batch.events.append(event)
        }
        for n in 0..<5 {
            batch.calls.append(
                CallObservation(
                    accountKey: UInt64(n) &* 0x9E37_79B9_7F4A_7C15, eventKey: ~UInt64(n), time: Int64.min + Int64(n),
                    sourceIP: n == 2 ? nil : IPAddress(v4: 0xC000_0200 + UInt32(n)),
                    country: CountryCode(n == 1 ? "CN" : "US")!,
                    isSignIn: n.isMultiple(of: 2), agentKey: UInt64(n), accessKeyKey: UInt64.max, principalKey: 0,
                    isMachine: n == 3, isCloudShell: n == 4))
        }
        return NormalizedInput(name: "a/b.json.gz", failed: true, storedBytes: 1 << 40, decodedBytes: 77, batch: batch)
    }

    static func encodeDecode(_ bytes: [UInt8]) throws -> NormalizedInput {
        try bytes.withUnsafeBytes { try NormalizedRecordReader.decode($0, path: "x.normalized") }
    }

    /// A file's input (no ledger identity: the merge takes the file's) and an object's (its size and ETag).
    @Test(arguments: [nil, (Int64(5143), "etag:998f5f56de1d9d9535dac3082572ea93")] as [(Int64, String)?])
    func everyValueComesBackAsItWasWritten(identity: (Int64, String)?) throws {
        var input = Self.sampleInput()
        input.ledgerIdentity = identity.map { (size: $0.0, fingerprint: $0.1) }
        let back = try Self.encodeDecode(NormalizedRecordWriter.encode(input))
        #expect(back.ledgerIdentity?.size == identity?.0)
        #expect(back.ledgerIdentity?.fingerprint == identity?.1)
        #expect(back.name == input.name)
        #expect(back.failed == input.failed)
        #expect(back.storedBytes == input.storedBytes)
        #expect(back.decodedBytes == input.decodedBytes)
        #expect(back.batch.events == input.batch.events)
        #expect(back.batch.calls == input.batch.calls)
        #expect(back.batch.diagnostics == input.batch.diagnostics)
        #expect(back.batch.recordsRead == input.batch.recordsRead)
        #expect(back.batch.recordsRejected == input.batch.recordsRejected)
        #expect(back.batch.documentsSkipped == input.batch.documentsSkipped)
        #expect(back.batch.diagnosticsSuppressed == input.batch.diagnosticsSuppressed)
        #expect(
            back.batch.accountNames.elements.map(\.key).sorted()
                == input.batch.accountNames.elements.map(\.key).sorted())
        #expect(
            back.batch.accountNames.elements.map(\.value).sorted()
                == input.batch.accountNames.elements.map(\.value).sorted())
        #expect(back.batch.identifierNames[42] == "role/ops")
        // Written again, the same bytes.
        #expect(NormalizedRecordWriter.encode(back) == NormalizedRecordWriter.encode(input))
    }

    @Test func aFileCutAnywhereIsAnErrorNamingItNeverACrash() throws {
        let bytes = NormalizedRecordWriter.encode(Self.sampleInput())
        for cut in 0..<bytes.count {
            #expect(throws: NormalizedRecordError.self) { try Self.encodeDecode(Array(bytes.prefix(cut))) }
        }
        #expect(throws: NormalizedRecordError.self) { try Self.encodeDecode(bytes + [0]) }
        var otherVersion = bytes
        otherVersion[7] = 9
        do {
            _ = try Self.encodeDecode(otherVersion)
            Issue.record("a file of another version was read")
        } catch let error as NormalizedRecordError {
            #expect(error.code == .unsupportedVersion)
            #expect(
                error.description.hasPrefix("x.normalized:offset 0: error: [normalized] normalised-records version 9"))
        }
    }
}

/// The stages of a distributed run give what `ingest` gives: `normalize` then `ingest --normalized`
/// (no Spark needed), and `Scripts/spark-ingest` on `local[2]` and on a standalone master with two
/// workers on loopback.
@Suite(.serialized) struct DistributedIngestTests {
    let corpus = DistributedCorpus.shared

    func ingest(
        _ extra: [String], paths: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil
    ) throws -> RunResult {
        let log = corpus.directory.path + "/evidence-\(UUID().uuidString).jsonl"
        var env = ProcessInfo.processInfo.environment
        env["CHIPTRAIL_EVIDENCE_LOG"] = log
        env.merge(environment) { _, new in new }
        let r = try BuiltBinary.run(
            ["ingest", "--no-store"] + corpus.options + extra + paths, stdin: stdin, timeout: 300, environment: env)
        return RunResult(status: r.status, stdout: r.stdout, stderr: r.stderr, evidenceLog: log)
    }

    @Test(arguments: [1, 2]) func normalizedThenMergedIsIngest(jobs: Int) throws {
        let expected = try ingest(["--jobs", "\(jobs)"], paths: corpus.paths)
        #expect(expected.status == 1)  // the damaged inputs
        #expect(expected.alerts.count > 40)
        #expect(expected.diagnostics.count >= 2)
        let output = corpus.directory.path + "/normalized-\(jobs)"
        let normalize = try BuiltBinary.run(
            ["normalize", "--quiet", "--output", output] + corpus.decodingOptions + corpus.paths, timeout: 300)
        #expect(normalize.status == 0, "\(normalize.stderr)")
        let merged = try ingest(["--jobs", "\(jobs)", "--normalized"], paths: [output])
        #expect(merged == expected)
        // The same files named one by one on stdin (as spark-ingest hands them to the merge as they land).
        let listed = try FileManager.default.contentsOfDirectory(atPath: output).sorted()
        let streamed = try ingest(
            ["--jobs", "\(jobs)", "--normalized", "--inputs-from", "-"], paths: [],
            stdin: listed.flatMap { Array((output + "/" + $0).utf8) + [0] })
        #expect(streamed == expected)
        // The same list said to hold one name more: cut short, an interrupted run (nothing decided at the end).
        let cut = try ingest(
            ["--jobs", "\(jobs)", "--normalized", "--inputs-from", "-", "--inputs-count", "\(listed.count + 1)"],
            paths: [], stdin: listed.flatMap { Array((output + "/" + $0).utf8) + [0] })
        #expect(cut.status == 2)
        #expect(cut.stderrTail.contains("chiptrail: the list of inputs was cut: read "))
        #expect(cut.diagnostics.contains { $0.contains("the list of inputs ended after \(listed.count) of the ") })
        // The check sees one input less: drop the normalised file of one input that holds a compute
        // event of an alerting session, and the result differs.
        let names = try FileManager.default.contentsOfDirectory(atPath: output).sorted()
        let dropped = try #require(
            names.first { name in
                let bytes = FileManager.default.contents(atPath: output + "/" + name).map { [UInt8]($0) } ?? []
                let input = try? NormalizedRecordTests.encodeDecode(bytes)
                return input?.batch.events.contains {
                    $0.action == .launch && expected.alerts.joined().contains($0.resourceID)
                } ?? false
            })
        try FileManager.default.removeItem(atPath: output + "/" + dropped)
        let short = try ingest(["--jobs", "\(jobs)", "--normalized"], paths: [output])
        #expect(short != expected)
    }

    @Test func aDamagedNormalizedFileIsNamedAndTheRestIsMerged() throws {
        let output = corpus.directory.path + "/normalized-damaged"
        _ = try BuiltBinary.run(
            ["normalize", "--quiet", "--output", output, Repository.root + "/SampleLogs/AWSLogs"], timeout: 120)
        let victim = output + "/" + NormalizeCommandName.fileName(3)
        let bytes = try #require(FileManager.default.contents(atPath: victim))
        try Data(bytes.prefix(bytes.count / 2)).write(to: URL(fileURLWithPath: victim))
        let r = try BuiltBinary.run(["ingest", "--no-store", "--normalized", output], timeout: 120)
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(victim):offset "))
        #expect(r.stderr.contains("error: [normalized] "))
        #expect(r.stderr.contains("read 80 file(s)"))
    }

    func sparkIngest(master: String, extra: [String] = []) throws -> RunResult {
        let log = corpus.directory.path + "/evidence-spark-\(UUID().uuidString).jsonl"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", Repository.root + "/Scripts/spark-ingest", "--master", master] + extra + ["--no-store"]
            + corpus.options
            + corpus.paths
        var env = ProcessInfo.processInfo.environment
        env["CHIPTRAIL"] = BuiltBinary.path
        env["CHIPTRAIL_EVIDENCE_LOG"] = log
        process.environment = env
        let r = try BuiltBinary.collect(process, timeout: 240)
        return RunResult(status: r.status, stdout: r.stdout, stderr: r.stderr, evidenceLog: log)
    }

    /// The executors write into the work directory and the merge reads each file as it lands; or (`--gather`,
    /// what a cluster without shared storage does) the records come back through the driver first.
    @Test(.enabled(if: SparkFixture.available, SparkFixture.reason), arguments: [[], ["--gather"]])
    func sparkIngestOnLocalTwoIsIngest(extra: [String]) throws {
        let expected = try ingest(["--jobs", "2"], paths: corpus.paths)
        let spark = try sparkIngest(master: "local[2]", extra: extra)
        #expect(spark == expected)
    }

    @Test(.enabled(if: SparkFixture.available, SparkFixture.reason))
    func aFailingMapTaskEndsTheRunWithItsMessageAndNoAlerts() throws {
        // A chiptrail that lists (and checks the merge's configuration) as the real one does and fails as a map task.
        let fake = corpus.directory.write(
            "failing-chiptrail",
            "#!/bin/sh\nif [ \"$2\" = \"--list\" ] || [ \"$1\" = ingest ]; then exec '\(BuiltBinary.path)' \"$@\"; fi\necho 'cannot map: disk full' >&2\nexit 3\n"
        )
        chmod(fake, 0o755)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", Repository.root + "/Scripts/spark-ingest", "--master", "local[1]", "--chiptrail", fake,
            "--no-store",
            Repository.root + "/SampleLogs/AWSLogs",
        ]
        let r = try BuiltBinary.collect(process, timeout: 240)
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(
            r.stderr.contains("spark-ingest: error: the map stage failed: chiptrail normalize exited 3 after 0 of "))
        #expect(r.stderr.contains("cannot map: disk full"))
    }

    /// An `s3a://` location (S3 on loopback: moto, through the fixture's proxy, every 5th request throttled):
    /// listed by the driver, each object read by the executors through chiptrail's S3 client; the alerts,
    /// their origins (`s3://logs/AWSLogs/…:line`) and the summary's counts are those of `ingest s3://`.
    @Test(
        .enabled(if: SparkFixture.available, SparkFixture.reason),
        .enabled(if: S3Fixture.available, "moto[server] is not installed (pip install 'moto[server]')"))
    func sparkIngestOfAnS3aLocationIsIngestOfTheBucket() throws {
        let s3 = try S3Fixture(uploads: [(Repository.root + "/SampleLogs/AWSLogs", "logs", "AWSLogs/")])
        s3.configure(["slowdown-every": "5"])
        let sample = Repository.root + "/SampleLogs/"
        let options = [
            "--no-store", "--config", sample + "chiptrail.conf", "--mappings", sample + "mappings.csv", "--resellers",
            sample + "resellers.csv", "--geoip", sample + "geoip.csv", "--endpoint-url", s3.proxyEndpoint,
        ]
        let expected = try BuiltBinary.run(
            ["ingest"] + options + ["s3://logs/AWSLogs"], timeout: 240, environment: S3Fixture.environment())
        #expect(expected.status == 0, "\(expected.stderr)")
        #expect(expected.stdout.contains("s3://logs/AWSLogs/"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", Repository.root + "/Scripts/spark-ingest", "--master", "local[2]", "--timings"] + options
            + ["s3a://logs/AWSLogs"]
        process.environment = S3Fixture.environment(["CHIPTRAIL": BuiltBinary.path])
        let r = try BuiltBinary.collect(process, timeout: 240)
        #expect(r.status == expected.status, "\(r.stderr)")
        #expect(r.stdout == expected.stdout)
        // The tasks were dealt by the objects' sizes as listed (the timings add them up), not by 0 each.
        let storedBytes = try FileManager.default.subpathsOfDirectory(atPath: sample + "AWSLogs").filter {
            $0.hasSuffix(".gz")
        }
        .map { try FileManager.default.attributesOfItem(atPath: sample + "AWSLogs/" + $0)[.size] as! Int }.reduce(0, +)
        #expect(r.stderr.contains(", \(storedBytes) stored byte(s)"), "\(r.stderr)")
        #expect(S3IngestTests.counts(r.stderr) == S3IngestTests.counts(expected.stderr))
        #expect(s3.faults()["slowdown"] ?? 0 > 0)
        // With a store, its ledger keys each object by bucket, key, size and ETag as ingest's does (the
        // executors read the ETag with the object; the merge cannot open s3:// itself).
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let stored = Array(options.dropFirst())
        let direct = try BuiltBinary.run(
            ["ingest", "--store", dir.path + "/ingest.db"] + stored + ["s3://logs/AWSLogs"], timeout: 240,
            environment: S3Fixture.environment())
        #expect(direct.status == 0, "\(direct.stderr)")
        let spark = Process()
        spark.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        spark.arguments =
            [
                "python3", Repository.root + "/Scripts/spark-ingest", "--master", "local[2]", "--store",
                dir.path + "/spark.db",
            ]
            + stored + ["s3a://logs/AWSLogs"]
        spark.environment = S3Fixture.environment(["CHIPTRAIL": BuiltBinary.path])
        let sparkStored = try BuiltBinary.collect(spark, timeout: 240)
        #expect(sparkStored.status == 0, "\(sparkStored.stderr)")
        func ledger(_ name: String) throws -> [String] {
            try DatabaseQueue(path: dir.path + "/" + name).read { db in
                try String.fetchAll(
                    db,
                    sql: "SELECT path || ' ' || size || ' ' || fingerprint || ' ' || records FROM files ORDER BY path")
            }
        }
        let ledgerOfIngest = try ledger("ingest.db")
        #expect(ledgerOfIngest.count == 80)
        #expect(ledgerOfIngest.allSatisfy { $0.contains(" etag:") })
        #expect(try ledger("spark.db") == ledgerOfIngest)
    }

    /// The merge runs beside the map stage and has alerts by the time a late task fails: they are dropped,
    /// the merge is stopped, and the run ends with the task's message as before. With `--exec` the merge
    /// waits for the map stage (a hook's delivery cannot be taken back): the hook gets nothing.
    @Test(.enabled(if: SparkFixture.available, SparkFixture.reason), arguments: [false, true])
    func aTaskThatFailsAfterTheMergeStartedLeavesNoAlerts(hook: Bool) throws {
        let work = corpus.directory.path + "/late-failing-work-\(hook)"
        let delivered = corpus.directory.path + "/late-failing-hook-\(hook).jsonl"
        // The real chiptrail, but the map task that holds the last input fails after writing every input,
        // once the other tasks' 60 files have landed and the merge has had two seconds with them.
        let fake = corpus.directory.write(
            "late-failing-chiptrail",
            """
            #!/bin/sh
            if [ "$1" = "normalize" ] && [ "$2" != "--list" ]; then
              names=$(mktemp); cat > "$names"
              if tr '\\000' '\\n' < "$names" | grep -q KXZNFSC70348PC6X; then
                '\(BuiltBinary.path)' "$@" < "$names"
                work="$CHIPTRAIL_TEST_WORK"; n=0
                while [ "$(ls "$work" | grep -c '[.]normalized$')" -lt 80 ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n+1)); done
                sleep 2; echo 'cannot map: disk full' >&2; exit 3
              fi
              exec '\(BuiltBinary.path)' "$@" < "$names"
            fi
            exec '\(BuiltBinary.path)' "$@"

            """)
        chmod(fake, 0o755)
        let hookScript = corpus.directory.write("late-failing-hook", "#!/bin/sh\ncat >> '\(delivered)'\n")
        chmod(hookScript, 0o755)
        let sample = Repository.root + "/SampleLogs/"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "python3", Repository.root + "/Scripts/spark-ingest", "--master", "local[2]", "--chiptrail", fake,
                "--partitions", "4", "--work-dir", work, "--no-store", "--config", sample + "chiptrail.conf",
                "--mappings", sample + "mappings.csv", "--resellers", sample + "resellers.csv", "--geoip",
                sample + "geoip.csv",
            ] + (hook ? ["--exec", hookScript] : []) + [sample + "AWSLogs"]
        var environment = ProcessInfo.processInfo.environment
        environment["CHIPTRAIL_TEST_WORK"] = work
        process.environment = environment
        let r = try BuiltBinary.collect(process, timeout: 240)
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("spark-ingest: error: the map stage failed: chiptrail normalize exited 3 after "))
        #expect(r.stderr.contains("cannot map: disk full"))
        #expect(!r.stderr.contains("chiptrail: read "))
        #expect(!FileManager.default.fileExists(atPath: delivered))
        // The failing task's own files landed too: all 80 were there for the merge.
        let landed = try FileManager.default.contentsOfDirectory(atPath: work).filter { $0.hasSuffix(".normalized") }
        #expect(landed.count == 80)
    }

    /// `spark-ingest ... | head`: once our stdout is closed, the merge's is too, and the run ends (it
    /// waited forever on the merge's full pipe before).
    @Test(.enabled(if: SparkFixture.available, SparkFixture.reason))
    func aClosedStdoutEndsTheRun() throws {
        // The real chiptrail, whose merge writes 20 MB of lines once it is done (after the map stage, so
        // they go straight through).
        let fake = corpus.directory.write(
            "chatty-chiptrail",
            """
            #!/bin/sh
            if [ "$1" = "ingest" ]; then
              '\(BuiltBinary.path)' "$@"; status=$?
              yes '{"type":"alert"}' | head -c 20000000; exit $status
            fi
            exec '\(BuiltBinary.path)' "$@"

            """)
        chmod(fake, 0o755)
        // The pipeline's output goes to a file, not to this test's pipe, so that a hung driver fails the test
        // when `timeout` ends the shell (its children would otherwise keep the pipe open).
        let head = corpus.directory.path + "/closed-stdout-head.txt"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = [
            "120", "/bin/sh", "-c",
            "python3 '\(Repository.root)/Scripts/spark-ingest' --master 'local[2]' --chiptrail '\(fake)' --no-store '\(Repository.root)/SampleLogs/AWSLogs' 2>/dev/null | head -c 100 > '\(head)'",
        ]
        let r = try BuiltBinary.collect(process, timeout: 180)
        #expect(r.status == 0, "the driver did not end after its stdout closed (exit \(r.status))")
        let text = (try? String(contentsOfFile: head, encoding: .utf8)) ?? ""
        #expect(text.hasPrefix("{\"type\":\"alert\""))
    }

    /// The merge's configuration is checked before Spark starts (no map stage of hours before a mistake in
    /// the mappings shows): each mistake ends the run at once with ingest's own message, and without Spark
    /// (the run does not need pyspark to get that far).
    @Test(arguments: [
        (["--mappings", "{dir}/bad-mappings.csv"], "unknown country 'ZZ' in column end_customer_country"),
        (["--exec", "{dir}/no-such-hook"], "is not an executable file"),
        (["--store", "{dir}/no-such-directory/chiptrail.db"], "the store cannot be written in"),
        (["--no-store", "--resellers", "{dir}/bad-resellers.csv"], "no usable reseller row"),
        (["--no-store", "--alerts", "bogus"], "bogus"),
        (["--store", "{dir}/held.db"], "is being written by process 4242 (chiptrail ingest)"),
    ])
    func aMistakeInTheMergesConfigurationEndsTheRunBeforeSparkStarts(options: [String], message: String) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        _ = dir.write(
            "bad-mappings.csv",
            "provider,account_id,reseller_id,end_customer_id,end_customer_country,valid_from,valid_to\n"
                + "aws,111111111111,RS-1,C-1,ZZ,2025-01-01T00:00:00Z,\n")
        _ = dir.write("bad-resellers.csv", "reseller_id,name,country,parent_id,serves_countries\nRS-1,X Co,ZZ,,\n")
        // Another run holds held.db's writer lock (an exclusive flock on held.db.lock, naming its holder).
        let lock = dir.write("held.db.lock", "4242 ingest\n")
        let held = open(lock, O_RDWR)
        defer { close(held) }
        #expect(flock(held, LOCK_EX | LOCK_NB) == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", Repository.root + "/Scripts/spark-ingest", "--master", "local[1]"]
            + options.map { $0.replacingOccurrences(of: "{dir}", with: dir.path) }
            + (options.contains("--store") ? [] : options.contains("--no-store") ? [] : ["--no-store"])
            + [Repository.root + "/SampleLogs/AWSLogs"]
        var environment = ProcessInfo.processInfo.environment
        environment["CHIPTRAIL"] = BuiltBinary.path
        process.environment = environment
        let r = try BuiltBinary.collect(process, timeout: 60)
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        // Spark never started: its JVM logs nothing here.
        #expect(!r.stderr.contains("WARN") && !r.stderr.contains("log4j"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/no-such-directory"))
    }

    /// A merge that ends while the map stage still runs (here: it cannot take its inputs at all) ends the run
    /// then, with its message and status, instead of when the map stage is done.
    @Test(.enabled(if: SparkFixture.available, SparkFixture.reason))
    func aMergeThatEndsEarlyCancelsTheMapStage() throws {
        // The real chiptrail, except that the merge (not the check before Spark) fails at once, and every map task
        // but the one holding the first input waits a minute and a half before it starts (so the merge, started
        // when the first input's file lands, cannot have been handed every input when it ends).
        let fake = corpus.directory.write(
            "early-ending-chiptrail",
            """
            #!/bin/sh
            if [ "$1" = "ingest" ]; then
              case " $* " in *" --inputs-count 0 "*) exec '\(BuiltBinary.path)' "$@";; esac
              echo 'cannot merge: the store is held by another run' >&2; exit 3
            fi
            if [ "$1" = "normalize" ] && [ "$2" != "--list" ]; then
              names=$(mktemp); cat > "$names"
              first=$('\(BuiltBinary.path)' normalize --list '\(Repository.root)/SampleLogs/AWSLogs' | tr '\\000' '\\n' | head -1)
              if ! tr '\\000' '\\n' < "$names" | grep -qxF "$first"; then sleep 90; fi
              '\(BuiltBinary.path)' "$@" < "$names"; status=$?; rm -f "$names"; exit $status
            fi
            exec '\(BuiltBinary.path)' "$@"

            """)
        chmod(fake, 0o755)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", Repository.root + "/Scripts/spark-ingest", "--master", "local[4]", "--chiptrail", fake,
            "--partitions", "4", "--no-store", Repository.root + "/SampleLogs/AWSLogs",
        ]
        let started = Date()
        let r = try BuiltBinary.collect(process, timeout: 240)
        let elapsed = Date().timeIntervalSince(started)
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("cannot merge: the store is held by another run"))
        #expect(!r.stderr.contains("the map stage failed"))
        #expect(r.stderr.contains(" of 80 input(s); the map stage was cancelled"), "\(r.stderr)")
        #expect(elapsed < 75, "the run waited for the map stage (\(elapsed) s)")
    }

    /// Mapping rows left out with a warning (exit 1 from ingest) do not stop the run at the check before Spark:
    /// the merge names them again, and the run is ingest's.
    @Test(.enabled(if: SparkFixture.available, SparkFixture.reason))
    func aMappingsFileWithABadRowStillRuns() throws {
        let sample = Repository.root + "/SampleLogs/"
        let good = try String(contentsOfFile: sample + "mappings.csv", encoding: .utf8)
        let mappings = corpus.directory.write(
            "partly-bad-mappings.csv", good + "aws,999999999999,RS-1,C-1,ZZ,2025-01-01T00:00:00Z,\n")
        let options = ["--no-store", "--mappings", mappings, "--geoip", sample + "geoip.csv", sample + "AWSLogs"]
        let expected = try BuiltBinary.run(["ingest"] + options)
        #expect(expected.status == 1)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repository.root + "/Scripts/spark-ingest", "--master", "local[1]"] + options
        var environment = ProcessInfo.processInfo.environment
        environment["CHIPTRAIL"] = BuiltBinary.path
        process.environment = environment
        let r = try BuiltBinary.collect(process, timeout: 240)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout == expected.stdout)
        #expect(r.stderr.contains("unknown country 'ZZ'"))
    }

    @Test(.enabled(if: SparkFixture.available, SparkFixture.reason))
    func sparkIngestOnAStandaloneClusterOfTwoWorkersIsIngest() throws {
        let expected = try ingest(["--jobs", "1"], paths: corpus.paths)
        let cluster = corpus.directory.path + "/cluster"
        let start = Process()
        start.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        start.arguments = [
            "python3", Repository.root + "/Scripts/spark-cluster", "start", "--dir", cluster, "--workers", "2",
        ]
        let started = try BuiltBinary.collect(start, timeout: 150)
        defer {
            let stop = Process()
            stop.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            stop.arguments = ["python3", Repository.root + "/Scripts/spark-cluster", "stop", "--dir", cluster]
            _ = try? BuiltBinary.collect(stop, timeout: 60)
        }
        try #require(started.status == 0, "\(started.stderr)")
        let master = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(master.hasPrefix("spark://127.0.0.1:"))
        // Tasks wait until both workers' executors have registered: on a loaded machine one executor's JVM can
        // start after the other has run every task. On a standalone master the ratio is of spark.cores.max (with
        // none set Spark expects 0 cores and never waits), so both are set: two cores, all of them registered.
        let spark = try sparkIngest(
            master: master,
            extra: [
                "--conf", "spark.executor.memory=512m", "--conf", "spark.cores.max=2",
                "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
                "--conf", "spark.scheduler.maxRegisteredResourcesWaitingTime=180s", "--partitions", "4",
            ])
        #expect(spark == expected)
        // Both workers ran map tasks (each has an executor directory of this application).
        let workers = try (0..<2).map { try FileManager.default.contentsOfDirectory(atPath: cluster + "/worker-\($0)") }
        #expect(workers.allSatisfy { !$0.isEmpty })
    }
}

/// The output file names of `chiptrail normalize` (as NormalizeCommand.fileName makes them).
enum NormalizeCommandName {
    static func fileName(_ index: Int) -> String { String(format: "%09d.normalized", index) }
}
