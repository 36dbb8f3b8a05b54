import Foundation
import Inputs
import ObjectStore
import S3TestSupport
import TestSupport
import Testing

/// `chiptrail ingest s3://…` against a real S3 implementation (moto, server mode) on loopback, through
/// a proxy that injects throttling, resets and truncated bodies: nothing lost, nothing read twice, the
/// alerts those of `ingest` of the same objects from a local copy.
@Suite(.serialized, .enabled(if: S3Fixture.available, "moto[server] is not installed (pip install 'moto[server]')"))
struct S3IngestTests {
    static let samples = Repository.root + "/SampleLogs"
    static let configuration = [
        "--mappings", samples + "/mappings.csv", "--resellers", samples + "/resellers.csv", "--geoip",
        samples + "/geoip.csv", "--config", samples + "/chiptrail.conf",
    ]

    /// The sample trail's objects (uploaded to `s3://logs/AWSLogs/`).
    static let objectCount = FileManager.default.enumerator(atPath: samples + "/AWSLogs")!.compactMap { $0 as? String }
        .filter { $0.hasSuffix(".gz") }.count

    func fixture() throws -> S3Fixture { try #require(S3Fixture.shared, "the S3 fixture did not start") }

    /// The summary line without its timing (`in 0.32 s (14.72 MB/s)`).
    static func counts(_ stderr: String) -> String {
        let line = stderr.split(separator: "\n").last { $0.hasPrefix("chiptrail: read") }.map(String.init) ?? ""
        return line.replacingOccurrences(of: #" in [0-9.]+ s \([0-9.]+ MB/s\)"#, with: "", options: .regularExpression)
    }

    /// `ingest --no-store` of the local copy, with its paths written as the bucket's.
    static let local: BuiltBinary.Result? = {
        guard var result = try? BuiltBinary.run(["ingest", "--no-store"] + configuration + [samples + "/AWSLogs"])
        else {
            return nil
        }
        result.stdout = result.stdout.replacingOccurrences(of: samples + "/AWSLogs/", with: "s3://logs/AWSLogs/")
        return result
    }()

    func ingest(_ s3: S3Fixture, jobs: Int, extra: [String] = [], environment: [String: String] = [:]) throws
        -> BuiltBinary.Result
    {
        try BuiltBinary.run(
            ["ingest", "--no-store", "--jobs", String(jobs), "--endpoint-url", s3.proxyEndpoint] + Self.configuration
                + extra + ["s3://logs/AWSLogs"],
            timeout: 240, environment: S3Fixture.environment(environment))
    }

    /// Pages of 1,000 keys (one page here) and of 7 (a dozen pages, by continuation token); the first
    /// listing's objects kept (80, within the default 256) or none (each folder's day listed again).
    @Test(arguments: [(1, 1000, nil), (2, 1000, 0), (2, 7, 0), (2, 7, nil)])
    func aBucketGivesTheAlertsOfItsLocalCopy(jobs: Int, pageSize: Int, keep: Int?) throws {
        let s3 = try fixture()
        s3.configure()
        let local = try #require(Self.local)
        #expect(local.status == 0)
        #expect(!local.stdout.isEmpty, "the sample trail raises alerts")
        var environment = ["CHIPTRAIL_S3_PAGE_SIZE": String(pageSize)]
        environment["CHIPTRAIL_S3_LISTING_KEEP"] = keep.map(String.init)
        let remote = try ingest(s3, jobs: jobs, environment: environment)
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(remote.stdout == local.stdout)
        #expect(Self.counts(remote.stderr) == Self.counts(local.stderr))
        // 80 objects: one page of 1,000, or twelve of 7, for the days each folder has; then, unless kept,
        // each folder's day (of one page, or of as many pages of 7 as it needs).
        let again = keep == 0 ? Self.stemDays.values.map { Self.pages($0, pageSize) }.reduce(0, +) : 0
        #expect(s3.faults()["lists"] == Self.pages(Self.objectCount, pageSize) + again)
    }

    static func pages(_ count: Int, _ size: Int) -> Int { max(1, (count + size - 1) / size) }

    /// The sample trail's objects by folder and day (`…/CloudTrail/us-east-1/2026/03/01`).
    static let stemDays: [String: Int] = {
        let names = FileManager.default.enumerator(atPath: samples + "/AWSLogs")!.compactMap { $0 as? String }
        return Dictionary(grouping: names.filter { $0.hasSuffix(".gz") }) {
            $0.split(separator: "/").dropLast().joined(separator: "/")
        }
        .mapValues(\.count)
    }()

    /// Keys laid out by day in two accounts over three days, with those a day at a time cannot place
    /// (a delivery time off its folder's day, none at all, another layout, a folder below a day's): read
    /// in exactly the order of the whole listing sorted by delivery time, as before the listing went a
    /// day at a time — the ledger's rows are written in the order inputs are merged. Pages of 2 keys;
    /// every day listed again (keep 0), or all kept from the first listing (the default allowance).
    @Test(arguments: [(1, 0), (3, 0), (3, nil)])
    func objectsAreReadInTheOrderOfTheWholeListingADayAtATime(jobs: Int, keep: Int?) throws {
        let s3 = try fixture()
        s3.configure()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let bucket = "by-day-\(jobs)-" + (keep.map(String.init) ?? "kept")
        try s3.admin(["op": "create_bucket", "bucket": bucket])
        func dated(_ account: String, _ day: Int, _ time: String, folderDay: Int? = nil) -> String {
            String(
                format: "AWSLogs/%@/CloudTrail/us-east-1/2026/03/%02d/%@_CloudTrail_us-east-1_202603%02dT%@Z_X.json",
                account, folderDay ?? day, account, day, time)
        }
        var keys: [String] = []
        for day in 1...3 {
            for time in ["0005", "0730", "1200", "2355"] {
                keys.append(dated("111111111111", day, time))
                keys.append(dated("222222222222", day, String(time.prefix(2)) + "1" + String(time.suffix(1))))
            }
        }
        keys += [
            dated("111111111111", 1, "2359", folderDay: 2),  // delivered on the 1st, in the 2nd's folder
            dated("222222222222", 3, "0001", folderDay: 2),  // delivered on the 3rd, in the 2nd's folder
            "AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/02/no-delivery-time.json",
            "AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/02/deeper/111111111111_CloudTrail_us-east-1_20260302T0600Z_D.json",
            "AWSLogs/exports/111111111111_export_20260302T1201Z_E.json",
            "AWSLogs/exports/folder/",
        ]
        for (n, key) in keys.enumerated() {
            let file = dir.write("object-\(n).json", cloudTrailRecord(eventID: "order-\(n)") + "\n")
            try s3.admin(["op": "put", "bucket": bucket, "key": key, "file": file])
        }
        let objects = keys.filter { !$0.hasSuffix("/") }.map { "s3://\(bucket)/\($0)" }
        let expected = InputEnumerator.sortedByDeliveryTime(objects)
        s3.configure()
        let store = dir.path + "/s.db"
        let result = try BuiltBinary.run(
            ["ingest", "--store", store, "--jobs", String(jobs), "--endpoint-url", s3.proxyEndpoint]
                + Self.configuration
                + ["s3://\(bucket)/AWSLogs/"],
            timeout: 120,
            environment: S3Fixture.environment([
                "CHIPTRAIL_S3_PAGE_SIZE": "2", "CHIPTRAIL_S3_LISTING_KEEP": keep.map(String.init) ?? "1000",
            ]))
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try BuiltBinary.run([
            "query", "--store", store, "--output", "csv", "SELECT path FROM files ORDER BY rowid",
        ])
        let read = rows.stdout.split(separator: "\n").dropFirst().map(String.init)
        #expect(read == expected)
        // The whole prefix in pages of 2 (30 keys with the folder marker), then each account's three days
        // in pages of 2: 4 keys a day, and on the 2nd 7 and 5 (the keys placed from the first listing
        // are listed again with their folder, and left).
        let dayFolders = keep == 0 ? [4, 7, 4, 4, 5, 4].map { Self.pages($0, 2) }.reduce(0, +) : 0
        #expect(s3.faults()["lists"] == 15 + dayFolders, "\(s3.faults())")
    }

    @Test(arguments: [1, 2])
    func throttlingResetsAndTruncatedBodiesLoseNothingAndReadNothingTwice(jobs: Int) throws {
        let s3 = try fixture()
        s3.configure(["slowdown-every": "7", "reset-every": "11", "truncate-every": "5"])
        let local = try #require(Self.local)
        let remote = try ingest(s3, jobs: jobs)
        let faults = s3.faults()
        s3.configure()
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(remote.stdout == local.stdout)
        // Same files, records, duplicates (none read twice), sessions and alerts.
        #expect(Self.counts(remote.stderr) == Self.counts(local.stderr))
        #expect((faults["slowdown"] ?? 0) > 0)
        #expect((faults["reset"] ?? 0) > 0)
        #expect((faults["truncate"] ?? 0) > 0)
        // Broken bodies were resumed with a Range request, not read again from the start.
        #expect((faults["ranged"] ?? 0) >= (faults["truncate"] ?? 0))
    }

    /// Runs the binary under a Python parent that reports its peak RSS (KB), the child's alone.
    static func peakRSS(_ arguments: [String]) throws -> (BuiltBinary.Result, Int) {
        let script =
            "import resource,subprocess,sys; r=subprocess.run(sys.argv[1:]); "
            + "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, BuiltBinary.path] + arguments
        process.environment = S3Fixture.environment()
        let result = try BuiltBinary.collect(process)
        let rss = Int(result.stderr.split(separator: "\n").last.map(String.init) ?? "") ?? 0
        return (result, rss)
    }

    /// A 32 MB object goes through the pipe in pieces: the process holds no more of it than a local
    /// read of the same file does (give or take the pipe's and curl's buffers), and reads the same.
    @Test func aLargeObjectIsStreamedNotHeldInMemory() throws {
        let s3 = try fixture()
        s3.configure()
        let (local, localRSS) = try Self.peakRSS(
            ["ingest", "--no-store", "--jobs", "1"] + Self.configuration + [
                S3Fixture.largeDirectory.path + "/large.json"
            ])
        let (remote, remoteRSS) = try Self.peakRSS(
            ["ingest", "--no-store", "--jobs", "1", "--endpoint-url", s3.motoEndpoint] + Self.configuration
                + ["s3://large/trail/large.json"])
        #expect(local.status == 0)
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(Self.counts(remote.stderr) == Self.counts(local.stderr))
        #expect(Self.counts(remote.stderr).contains("read 1 file(s), 33."))
        #expect(localRSS > 0)
        #expect(remoteRSS < localRSS + 12 << 10, "peak RSS \(remoteRSS) KB reading from S3, \(localRSS) KB from disk")
    }

    @Test func aDeniedObjectIsNamedWithBucketKeyAndAWSCodeAndTheRestIsRead() throws {
        let s3 = try fixture()
        let denied = "111111111111_CloudTrail_us-east-1_20260301T0805Z_K6USNF5Z1ODLX7ZM.json.gz"
        s3.configure(["deny": denied])
        let secret = "wJalrXUtnFEMI-must-not-be-printed"
        let token = "FQoGZXIvYXdz-must-not-be-printed"
        let remote = try ingest(
            s3, jobs: 2, environment: ["AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token])
        s3.configure()
        #expect(remote.status == 1)
        for text in [remote.stdout, remote.stderr] {
            #expect(!text.contains(secret))
            #expect(!text.contains(token))
        }
        let line = try #require(remote.stderr.split(separator: "\n").first { $0.contains(denied) })
        #expect(line.hasPrefix("s3://logs/AWSLogs/111111111111/CloudTrail/us-east-1/2026/03/01/\(denied)"))
        #expect(line.contains(": error: [input] AccessDenied, HTTP 403: access"))
        #expect(line.contains("s3:GetObject"))
        #expect(Self.counts(remote.stderr).contains("read 80 file(s)"))
        #expect(Self.counts(remote.stderr).contains("1 file(s) not read to the end"))
    }

    @Test func aBodyThatCannotBeReadToItsEndIsAReadFailureNotAShorterFile() throws {
        let s3 = try fixture()
        s3.configure(["always-truncate": "PLAIN"])
        let result = try BuiltBinary.run(
            ["ingest", "--no-store", "--endpoint-url", s3.proxyEndpoint] + Self.configuration + ["s3://plain/trail/"],
            timeout: 120, environment: S3Fixture.environment(["CHIPTRAIL_S3_MAX_ATTEMPTS": "3"]))
        let faults = s3.faults()
        s3.configure()
        #expect(result.status == 1)
        #expect((faults["always-truncate"] ?? 0) == 3)
        #expect(
            result.stderr.contains(
                "s3://plain/trail/111111111111_CloudTrail_us-east-1_20260301T0405Z_PLAIN.json:offset "))
        #expect(result.stderr.contains("after 3 attempts"))
        #expect(Self.counts(result.stderr).contains("1 file(s) not read to the end"))
    }

    /// Every read carries the ETag listed (If-Match): an object rewritten since is refused by S3, and
    /// the read fails as changed, naming the key, instead of mixing old and new bytes.
    @Test func aReadOfAnObjectWhoseETagChangedFailsAsChanged() throws {
        let s3 = try fixture()
        let client = try S3Client(
            credentials: CredentialProvider(environment: S3Fixture.environment()), endpointURL: s3.motoEndpoint)
        let key = "trail/111111111111_CloudTrail_us-east-1_20260301T0405Z_PLAIN.json"
        let listed = try #require(client.listAll(S3Location(bucket: "plain", prefix: "trail/")).first { $0.key == key })
        var bytes: Int64 = 0
        let read = try client.getObject(bucket: "plain", key: key, etag: listed.etag) { piece in
            bytes += Int64(piece.count)
            return true
        }
        #expect(read.bytes == listed.size)
        #expect(bytes == listed.size)
        let error = try #require(throws: ObjectStoreError.self) {
            try client.getObject(bucket: "plain", key: key, etag: "\"0123456789abcdef0123456789abcdef\"") { _ in true }
        }
        #expect(error.code == .changed)
        #expect(error.awsCode == "PreconditionFailed")
        #expect(error.description.hasPrefix("s3://plain/\(key): error: [s3] PreconditionFailed, HTTP 412"))
    }

    /// Keys with spaces, `+`, `&`, `<`, quotes, `%`, non-ASCII letters, `;=?#~*()`: listed (URL-encoded in
    /// the XML), signed and read, each once, as the same files are from disk.
    @Test func oddlyNamedKeysAreListedSignedAndReadEachOnce() throws {
        let s3 = try fixture()
        s3.configure()
        let local = try BuiltBinary.run(["ingest", "--no-store"] + Self.configuration + [S3Fixture.oddDirectory.path])
        let remote = try BuiltBinary.run(
            ["ingest", "--no-store", "--endpoint-url", s3.proxyEndpoint] + Self.configuration + ["s3://odd/keys/"],
            timeout: 60, environment: S3Fixture.environment(["CHIPTRAIL_S3_PAGE_SIZE": "3"]))
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(Self.counts(remote.stderr) == Self.counts(local.stderr))
        #expect(Self.counts(remote.stderr).contains("read \(S3Fixture.oddNames.count) file(s)"))
        #expect(Self.counts(remote.stderr).contains("\(S3Fixture.oddNames.count) record(s)"))
    }

    /// Spark's map stage on objects: `normalize --list` lists the bucket as ingest does, `normalize
    /// --inputs-from` reads the objects named (through throttling and cut bodies), and `ingest --normalized`
    /// merges them to the alerts and counts of `ingest s3://`.
    @Test func normalizedObjectsMergeAsTheBucket() throws {
        let s3 = try fixture()
        s3.configure(["slowdown-every": "6", "truncate-every": "9"])
        let endpoint = ["--endpoint-url", s3.proxyEndpoint]
        let decoding = ["--geoip", Self.samples + "/geoip.csv", "--config", Self.samples + "/chiptrail.conf"]
        let environment = S3Fixture.environment()
        let listed = try BuiltBinary.run(
            ["normalize", "--list"] + endpoint + decoding + ["s3://logs/AWSLogs"], timeout: 60, environment: environment
        )
        #expect(listed.status == 0, "\(listed.stderr)")
        let names = listed.stdout.split(separator: "\0").map(String.init)
        #expect(names.count == Self.objectCount)
        #expect(names.allSatisfy { $0.hasPrefix("s3://logs/AWSLogs/") })
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let normalized = try BuiltBinary.run(
            ["normalize", "--quiet", "--inputs-from", "-", "--output", dir.path + "/norm"] + endpoint + decoding,
            stdin: Array(listed.stdout.utf8), timeout: 120, environment: environment)
        #expect(normalized.status == 0, "\(normalized.stderr)")
        #expect((s3.faults()["truncate"] ?? 0) > 0)
        let merged = try BuiltBinary.run(
            ["ingest", "--no-store", "--normalized"] + Self.configuration + [dir.path + "/norm"], timeout: 60)
        let remote = try ingest(s3, jobs: 2)
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(merged.status == remote.status)
        #expect(merged.stdout == remote.stdout)
        #expect(Self.counts(merged.stderr) == Self.counts(remote.stderr))
    }

    /// `normalize --list --sizes` (what spark-ingest deals map tasks by): each object's size as listed,
    /// which is its local copy's, and a local file's from the file; names as `--list` gives them.
    @Test func listedSizesAreTheObjectsSizes() throws {
        let s3 = try fixture()
        s3.configure()
        func listing(_ arguments: [String]) throws -> [(size: Int64, name: String)] {
            let listed = try BuiltBinary.run(
                ["normalize", "--list", "--sizes", "--endpoint-url", s3.proxyEndpoint] + arguments, timeout: 60,
                environment: S3Fixture.environment())
            #expect(listed.status == 0, "\(listed.stderr)")
            return try listed.stdout.split(separator: "\0").map { entry in
                let parts = entry.split(separator: "\t", maxSplits: 1)
                return (try #require(Int64(String(parts[0]))), String(parts[1]))
            }
        }
        let remote = try listing(["s3://logs/AWSLogs"])
        let local = try listing([Self.samples + "/AWSLogs"])
        #expect(remote.count == Self.objectCount)
        #expect(remote.map(\.name) == local.map { $0.name.replacingOccurrences(of: Self.samples, with: "s3://logs") })
        #expect(remote.map(\.size) == local.map(\.size))
        for (size, name) in local {
            let attributes = try FileManager.default.attributesOfItem(atPath: name)
            #expect(size == (attributes[.size] as? NSNumber)?.int64Value)
        }
        #expect(local.allSatisfy { $0.size > 0 })
        let plain = try BuiltBinary.run(["normalize", "--list", Self.samples + "/AWSLogs"], timeout: 60)
        #expect(plain.stdout.split(separator: "\0").map(String.init) == local.map(\.name))
    }

    @Test func aMissingBucketIsNamedWithItsAWSCode() throws {
        let s3 = try fixture()
        s3.configure()
        let result = try BuiltBinary.run(
            ["ingest", "--no-store", "--endpoint-url", s3.proxyEndpoint] + Self.configuration + [
                "s3://no-such-bucket/AWSLogs/"
            ],
            timeout: 60, environment: S3Fixture.environment())
        #expect(result.status == 1)
        #expect(result.stderr.contains("s3://no-such-bucket/AWSLogs/: error: [s3] NoSuchBucket, HTTP 404"))
    }

    @Test func theLedgerKeysObjectsByBucketKeyAndETag() throws {
        let s3 = try fixture()
        s3.configure()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = dir.path + "/s3.db"
        let first = try BuiltBinary.run(
            ["ingest", "--store", store, "--endpoint-url", s3.motoEndpoint] + Self.configuration + [
                "s3://logs/AWSLogs"
            ],
            timeout: 120, environment: S3Fixture.environment())
        #expect(first.status == 0, "\(first.stderr)")
        let rows = try BuiltBinary.run(
            ["query", "--store", store, "--output", "csv", "SELECT path, fingerprint FROM files ORDER BY path"])
        let lines = rows.stdout.split(separator: "\n").dropFirst()
        #expect(lines.count == Self.objectCount)
        for line in lines {
            #expect(line.hasPrefix("s3://logs/AWSLogs/"))
            #expect(line.range(of: #",etag:[0-9a-f]{32}$"#, options: .regularExpression) != nil, "\(line)")
        }
        // Read again: the store already has the alerts; none is printed twice.
        let second = try BuiltBinary.run(
            ["ingest", "--store", store, "--endpoint-url", s3.motoEndpoint] + Self.configuration + [
                "s3://logs/AWSLogs"
            ],
            timeout: 120, environment: S3Fixture.environment())
        #expect(second.status == 0)
        #expect(!first.stdout.isEmpty)
        #expect(second.stdout.isEmpty)
    }

    @Test func noCredentialsIsAConfigurationError() throws {
        let s3 = try fixture()
        var environment = S3Fixture.environment()
        environment["AWS_ACCESS_KEY_ID"] = nil
        environment["AWS_SECRET_ACCESS_KEY"] = nil
        let result = try BuiltBinary.run(
            ["ingest", "--no-store", "--endpoint-url", s3.motoEndpoint] + Self.configuration + ["s3://logs/AWSLogs"],
            timeout: 60, environment: environment)
        #expect(result.status == 2)
        #expect(result.stderr.contains("no AWS credentials found"))
    }
}
