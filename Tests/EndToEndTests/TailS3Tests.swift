import Foundation
import Inputs
import ObjectStore
import S3TestSupport
import TestSupport
import Testing

/// `chiptrail tail s3://bucket/prefix --sqs QUEUE_URL` against moto (S3, SQS and SNS in server mode) on
/// loopback, through the fault proxy. moto delivers S3 event notifications itself, to SQS directly or
/// through SNS, in server mode (checked: the queue receives `s3:TestEvent` when the configuration is saved
/// and an `ObjectCreated:Put` record per PutObject), so those tests put objects and let moto notify.
/// CloudTrail's own notification is not produced by moto (it does not deliver trails): that test publishes
/// it to an SNS topic itself, in the shape CloudTrail documents.
@Suite(.serialized, .enabled(if: S3Fixture.available, "moto[server] is not installed (pip install 'moto[server]')"))
struct TailS3Tests {
    static let samples = Repository.root + "/SampleLogs"

    /// The sample trail's objects in delivery order (the time in their names), by path relative to
    /// SampleLogs/AWSLogs.
    static let objects: [String] = {
        let root = samples + "/AWSLogs/"
        return InputEnumerator.sortedByDeliveryTime(
            FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".gz") })
    }()

    /// The key of a sample object in the bucket: its account and region folders, under today's date
    /// (so the ledger's pruning, which starts the day before yesterday, leaves its rows).
    static func key(_ relative: String, daysAgo: Int = 0) -> String {
        let parts = relative.split(separator: "/")
        return "AWSLogs/\(parts[0])/CloudTrail/\(parts[2])/\(DatedKeys.day(Date(), daysBefore: daysAgo))/\(parts.last!)"
    }

    /// `ingest --no-store` of the local copy: the reference alerts, as (id, score).
    static let reference: [String] = {
        let result = try? BuiltBinary.run(
            ["ingest", "--no-store"] + S3IngestTests.configuration + [samples + "/AWSLogs"])
        return alerts(result?.stdout ?? "")
    }()

    /// `id score` of each alert line, in the order printed.
    static func alerts(_ stdout: String) -> [String] {
        stdout.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let id = object["id"] as? String, let score = object["score"] as? Double
            else { return nil }
            return "\(id) \(score)"
        }
    }

    func fixture() throws -> S3Fixture { try #require(S3Fixture.forTail, "the S3 fixture did not start") }

    /// A daemon in `dir`: stdout and stderr to files there.
    final class Daemon {
        let process = Process()
        let dir: String

        init(_ s3: S3Fixture, dir: String, queue: String?, locations: [String], extra: [String] = []) throws {
            self.dir = dir
            process.executableURL = URL(fileURLWithPath: BuiltBinary.path)
            process.arguments =
                ["tail", "--store", dir + "/s.db", "--endpoint-url", s3.proxyEndpoint] + S3IngestTests.configuration
                + (queue.map { ["--sqs", $0] } ?? []) + extra + locations
            process.environment = S3Fixture.environment(["CHIPTRAIL_S3_MAX_ATTEMPTS": "12"])
            for name in ["stdout.txt", "stderr.txt"] where !FileManager.default.fileExists(atPath: dir + "/" + name) {
                _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: nil)
            }
            let out = FileHandle(forWritingAtPath: dir + "/stdout.txt")!
            out.seekToEndOfFile()
            let err = FileHandle(forWritingAtPath: dir + "/stderr.txt")!
            err.seekToEndOfFile()
            process.standardOutput = out
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            TailTests.waitUntilReady(process)
        }

        var stdout: String { (try? String(contentsOfFile: dir + "/stdout.txt", encoding: .utf8)) ?? "" }
        var stderr: String { (try? String(contentsOfFile: dir + "/stderr.txt", encoding: .utf8)) ?? "" }

        /// SIGTERM and the exit status.
        func stop() -> Int32 {
            process.terminate()
            process.waitUntilExit()
            return process.terminationStatus
        }

        func kill9() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        /// The ledger rows (objects committed), or -1.
        func committed() -> Int {
            let r = try? BuiltBinary.run([
                "query", "--store", dir + "/s.db", "--output", "csv", "SELECT COUNT(*) FROM files",
            ])
            return r.flatMap { Int($0.stdout.split(separator: "\n").last ?? "") } ?? -1
        }

        /// Waits (up to `seconds`) until `done` holds.
        @discardableResult
        func wait(seconds: Double = 90, until done: () throws -> Bool) rethrows -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if try done() { return true }
                usleep(100_000)
            }
            return false
        }
    }

    /// A bucket with `objects` put in it (sample relative paths), each under ``key(_:daysAgo:)``.
    func put(_ s3: S3Fixture, bucket: String, _ objects: some Sequence<String>, daysAgo: Int = 0) throws {
        for relative in objects {
            try s3.admin([
                "op": "put", "bucket": bucket, "key": Self.key(relative, daysAgo: daysAgo),
                "file": Self.samples + "/AWSLogs/" + relative,
            ])
        }
    }

    @Test func objectsPutAfterTailStartedAlertOnceAndARewrittenObjectIsReadAgain() throws {
        let s3 = try fixture()
        s3.configure()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try s3.admin(["op": "create_bucket", "bucket": "tail-direct"])
        let queue = try s3.makeQueue("tail-direct")
        // Saving the configuration sends s3:TestEvent to the queue.
        try s3.admin(["op": "notify", "bucket": "tail-direct", "queue_arn": queue.arn])
        let half = Self.objects.count / 2
        try put(s3, bucket: "tail-direct", Self.objects[..<half])
        let daemon = try Daemon(s3, dir: dir.path, queue: queue.url, locations: ["s3://tail-direct/AWSLogs/"])
        // The first half is read from the start's listing; its notifications then find it in the ledger.
        daemon.wait { daemon.committed() == half }
        try put(s3, bucket: "tail-direct", Self.objects[half...])
        let caughtUp = try daemon.wait {
            try daemon.committed() == Self.objects.count && s3.queueCounts(queue.url) == (0, 0)
        }
        #expect(caughtUp, "\(daemon.committed()) of \(Self.objects.count) committed; \(daemon.stderr)")
        // Rewritten in place (another object's bytes: a new ETag): read again, once.
        let rewritten = Self.objects[0]
        try s3.admin([
            "op": "put", "bucket": "tail-direct", "key": Self.key(rewritten),
            "file": Self.samples + "/AWSLogs/" + Self.objects[1],
        ])
        daemon.wait { daemon.committed() == Self.objects.count + 1 }
        daemon.wait(seconds: 10) { (try? s3.queueCounts(queue.url) == (0, 0)) == true }
        // Idle, it waits in a 20 s long poll: SIGTERM ends it within a second or so.
        Thread.sleep(forTimeInterval: 1)
        let stopping = Date()
        let status = daemon.stop()
        #expect(Date().timeIntervalSince(stopping) < 5)
        #expect(status == 0, "\(daemon.stderr)")
        let alerts = Self.alerts(daemon.stdout)
        #expect(!Self.reference.isEmpty)
        #expect(Set(alerts) == Set(Self.reference))
        #expect(alerts.count == Set(alerts).count, "an alert printed twice: \(alerts)")
        // Nothing read twice: each object once, the rewritten one once more; the test event and the
        // notifications of objects already read deleted without a read.
        #expect(daemon.stderr.contains("tail stopped: \(Self.objects.count + 1) object(s) read"), "\(daemon.stderr)")
        #expect(!daemon.stderr.contains("error:"), "\(daemon.stderr)")
        #expect(try s3.queueCounts(queue.url) == (0, 0))
        let rows = try BuiltBinary.run([
            "query", "--store", dir.path + "/s.db", "--output", "csv",
            "SELECT COUNT(DISTINCT fingerprint) FROM files WHERE path = 's3://tail-direct/\(Self.key(rewritten))'",
        ])
        #expect(rows.stdout.hasSuffix("2\n"), "\(rows.stdout)")
    }

    @Test func snsWrappedAndCloudTrailNotificationsAreReadAndOthersOutsideThePrefixIgnored() throws {
        let s3 = try fixture()
        s3.configure()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let queue = try s3.makeQueue("tail-sns")
        // Bucket tail-sns-a notifies through SNS; bucket tail-sns-b has no notifications: CloudTrail's
        // own notification (published below, as CloudTrail publishes it) names its objects.
        try s3.admin(["op": "create_bucket", "bucket": "tail-sns-a"])
        try s3.admin(["op": "create_bucket", "bucket": "tail-sns-b"])
        try s3.admin(["op": "notify", "bucket": "tail-sns-a", "queue_arn": queue.arn, "topic": "tail-sns-s3"])
        let trailTopic =
            try s3.admin(["op": "subscribe", "topic": "tail-sns-cloudtrail", "queue_arn": queue.arn])["topic"]
            as? String ?? ""
        let daemon = try Daemon(
            s3, dir: dir.path, queue: queue.url, locations: ["s3://tail-sns-a/AWSLogs/", "s3://tail-sns-b/AWSLogs/"])
        daemon.wait(seconds: 10) { daemon.stderr.contains("tail following") }
        // In delivery order (as a trail lands; arrival far out of order would change decisions past the
        // allowed lateness, in ingest's terms): even objects to tail-sns-a, odd ones to tail-sns-b, named
        // two a message by CloudTrail's notification.
        var pending: [String] = []
        func publish() throws {
            guard !pending.isEmpty else { return }
            let message = try JSONSerialization.data(withJSONObject: ["s3Bucket": "tail-sns-b", "s3ObjectKey": pending])
            try s3.admin(["op": "publish", "topic": trailTopic, "message": String(decoding: message, as: UTF8.self)])
            pending.removeAll()
        }
        for (n, relative) in Self.objects.enumerated() {
            if n % 2 == 0 {
                try put(s3, bucket: "tail-sns-a", [relative])
            } else {
                try put(s3, bucket: "tail-sns-b", [relative])
                pending.append(Self.key(relative))
                if pending.count == 2 { try publish() }
            }
        }
        try publish()
        // Outside the followed prefixes: ignored, said once.
        for n in 0..<2 {
            let message = try JSONSerialization.data(withJSONObject: [
                "s3Bucket": "tail-sns-b", "s3ObjectKey": ["elsewhere/object-\(n).json.gz"],
            ])
            try s3.admin(["op": "publish", "topic": trailTopic, "message": String(decoding: message, as: UTF8.self)])
        }
        let caughtUp = try daemon.wait {
            try daemon.committed() == Self.objects.count && s3.queueCounts(queue.url) == (0, 0)
        }
        #expect(caughtUp, "\(daemon.committed()) of \(Self.objects.count) committed; \(daemon.stderr)")
        #expect(daemon.stop() == 0)
        let alerts = Self.alerts(daemon.stdout)
        #expect(Set(alerts) == Set(Self.reference))
        #expect(alerts.count == Set(alerts).count)
        #expect(daemon.stderr.contains("tail stopped: \(Self.objects.count) object(s) read"), "\(daemon.stderr)")
        let outside = daemon.stderr.split(separator: "\n").filter { $0.contains("outside the followed locations") }
        #expect(outside.count == 1, "\(daemon.stderr)")
        #expect(outside.first?.hasPrefix("s3://tail-sns-b/elsewhere/object-0.json.gz: warning: [sqs] ") == true)
    }

    /// An object whose bytes are refused (not a log chiptrail reads) is reported once and its message
    /// deleted: reading it again would change nothing (a local file is not read again either).
    @Test func anObjectThatIsNoLogIsReportedOnceAndItsMessageDeleted() throws {
        let s3 = try fixture()
        s3.configure()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try s3.admin(["op": "create_bucket", "bucket": "tail-junk"])
        let queue = try s3.makeQueue("tail-junk")
        try s3.admin(["op": "notify", "bucket": "tail-junk", "queue_arn": queue.arn])
        let daemon = try Daemon(
            s3, dir: dir.path, queue: queue.url, locations: ["s3://tail-junk/AWSLogs/"],
            extra: ["--visibility-timeout", "2", "--relist-interval", "1"])
        daemon.wait(seconds: 10) { daemon.stderr.contains("tail following") }
        let junk = dir.write("junk.txt", "this is not a log file\nat all\n")
        let junkKey = "AWSLogs/111111111111/CloudTrail/us-east-1/\(DatedKeys.day(Date()))/junk.txt"
        try s3.admin(["op": "put", "bucket": "tail-junk", "key": junkKey, "file": junk])
        try put(s3, bucket: "tail-junk", Self.objects.prefix(1))
        let caughtUp = try daemon.wait {
            try daemon.committed() == 1 && s3.queueCounts(queue.url) == (0, 0)
        }
        // Past a visibility timeout and a few re-listings: not read again.
        Thread.sleep(forTimeInterval: 4)
        #expect(caughtUp, "\(daemon.stderr)")
        #expect(daemon.stop() == 0)
        #expect(try s3.queueCounts(queue.url) == (0, 0))
        let reports = daemon.stderr.split(separator: "\n").filter { $0.contains("junk.txt") }
        #expect(reports.count == 1, "\(daemon.stderr)")
        #expect(reports.first?.contains("error: [format] unrecognised format") == true, "\(reports)")
    }

    /// kill -9 while notified objects are being read and committed: a message is deleted only after the
    /// batch holding its objects is committed, so the restarted daemon (once the visibility of the
    /// messages in hand runs out) reads what was not committed, and the two runs together print the
    /// alerts of `ingest` of a local copy, each once. Throttling and resets on S3 and SQS meanwhile.
    @Test func aKillMidBatchLosesNothingAndRepeatsNothing() throws {
        let s3 = try fixture()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try s3.admin(["op": "create_bucket", "bucket": "tail-killed"])
        let queue = try s3.makeQueue("tail-killed")
        try s3.admin(["op": "notify", "bucket": "tail-killed", "queue_arn": queue.arn])
        s3.configure(["slowdown-every": "9", "reset-every": "13"])
        let extra = ["--visibility-timeout", "4"]
        let first = try Daemon(
            s3, dir: dir.path, queue: queue.url, locations: ["s3://tail-killed/AWSLogs/"], extra: extra)
        // Put while tail reads; killed once it has committed something, while objects still land.
        let putting = DispatchGroup()
        nonisolated(unsafe) var putError: (any Error)? = nil
        DispatchQueue.global().async(group: putting) {
            do {
                for relative in Self.objects {
                    try self.put(s3, bucket: "tail-killed", [relative])
                    usleep(20_000)
                }
            } catch {
                putError = error
            }
        }
        first.wait { first.committed() >= 1 }
        first.kill9()
        putting.wait()
        if let putError { throw putError }
        let committed = first.committed()
        let counts = try s3.queueCounts(queue.url)
        // Every message was sent (one per object, and the test event); those deleted are at most those
        // whose objects were committed.
        let deleted = Self.objects.count + 1 - counts.visible - counts.inFlight
        #expect(committed < Self.objects.count, "the kill came after the last commit; the test proves nothing")
        #expect(deleted <= committed + 1, "\(deleted) messages deleted, \(committed) objects committed")
        let second = try Daemon(
            s3, dir: dir.path, queue: queue.url, locations: ["s3://tail-killed/AWSLogs/"], extra: extra)
        let caughtUp = try second.wait {
            try second.committed() == Self.objects.count && s3.queueCounts(queue.url) == (0, 0)
        }
        let faults = s3.faults()
        s3.configure()
        #expect(caughtUp, "\(second.committed()) of \(Self.objects.count) committed; \(second.stderr)")
        #expect(second.stop() == 0)
        let alerts = Self.alerts(second.stdout)
        #expect(Set(alerts) == Set(Self.reference))
        #expect(alerts.count == Set(alerts).count, "an alert printed twice: \(alerts)")
        #expect((faults["slowdown"] ?? 0) > 0)
        #expect((faults["reset"] ?? 0) > 0)
        #expect((faults["sqs:ReceiveMessage"] ?? 0) > 0)
    }

    /// Without notifications (none configured, or lost), the periodic re-listing reads what lands; the
    /// ledger rows of days no longer re-listed are pruned, and a restart does not read them again.
    @Test func relistingCatchesWhatNoNotificationNamedAndPrunedDaysAreNotReadAgain() throws {
        let s3 = try fixture()
        s3.configure()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try s3.admin(["op": "create_bucket", "bucket": "tail-relist"])
        let queue = try s3.makeQueue("tail-relist")
        // Five days ago: read at start, then pruned (and marked read).
        let old = Array(Self.objects.prefix(10))
        try put(s3, bucket: "tail-relist", old, daysAgo: 5)
        let extra = ["--relist-interval", "1"]
        let first = try Daemon(
            s3, dir: dir.path, queue: queue.url, locations: ["s3://tail-relist/AWSLogs/"], extra: extra)
        first.wait(seconds: 20) { first.stderr.contains("tail following") }
        let recent = Array(Self.objects.dropFirst(10))
        try put(s3, bucket: "tail-relist", recent)
        let caughtUp = first.wait { first.committed() == recent.count }
        #expect(caughtUp, "\(first.committed()) of \(recent.count) committed; \(first.stderr)")
        #expect(first.stop() == 0)
        #expect(Set(Self.alerts(first.stdout)) == Set(Self.reference))
        #expect(first.stderr.contains("tail stopped: \(Self.objects.count) object(s) read"), "\(first.stderr)")
        let mark = try BuiltBinary.run([
            "query", "--store", dir.path + "/s.db", "--output", "csv", "SELECT location, before_day FROM object_marks",
        ])
        #expect(
            mark.stdout.contains("s3://tail-relist/AWSLogs/,\(DatedKeys.day(Date(), daysBefore: 2))"), "\(mark.stdout)")
        // Restarted: nothing read again (the pruned days by the mark, the recent by the ledger).
        let second = try Daemon(
            s3, dir: dir.path, queue: queue.url, locations: ["s3://tail-relist/AWSLogs/"], extra: extra)
        second.wait(seconds: 5) { false }
        #expect(second.stop() == 0)
        #expect(second.stderr.contains("tail stopped: 0 object(s) read"), "\(second.stderr)")
    }

    /// A CUR 2.0 / FOCUS export's layout (`…/BILLING_PERIOD=2026-11/…`, no day in the keys) followed over
    /// many re-listings: the ledger keeps only the objects modified within the re-listing window (a day,
    /// and 15 minutes of clock skew), older ones are skipped by later listings and not read again (also
    /// after a restart), a rewritten old object is read again, and an object no notification named,
    /// landed with a LastModified older than earlier listings but within the window, is found. Time is
    /// moved by setting objects' LastModified in moto (the fixture's `age`), not by waiting a day.
    @Test func anUndatedLayoutKeepsItsLedgerBoundedOverManyRelistings() throws {
        let s3 = try fixture()
        s3.configure()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try s3.admin(["op": "create_bucket", "bucket": "tail-undated"])
        let queue = try s3.makeQueue("tail-undated")
        // Keys ending .gz are notified; the one that is not (below) is found by re-listing alone.
        try s3.admin(["op": "notify", "bucket": "tail-undated", "queue_arn": queue.arn, "suffix": ".gz"])
        let prefix = "exports/focus/data/"
        func key(_ relative: String, period: String = "2026-11") -> String {
            "\(prefix)BILLING_PERIOD=\(period)/" + String(relative.split(separator: "/").last!)
        }
        let store = dir.path + "/s.db"
        func rows(_ condition: String = "1") -> Int {
            let r = try? BuiltBinary.run([
                "query", "--store", store, "--output", "csv", "SELECT COUNT(*) FROM files WHERE \(condition)",
            ])
            return r.flatMap { Int($0.stdout.split(separator: "\n").last ?? "") } ?? -1
        }
        func rowsOf(_ keys: [String]) -> Int {
            rows("path IN (" + keys.map { "'s3://tail-undated/\($0)'" }.joined(separator: ",") + ")")
        }
        let extra = ["--relist-interval", "1"]
        let location = "s3://tail-undated/\(prefix)"
        let first = try Daemon(s3, dir: dir.path, queue: queue.url, locations: [location], extra: extra)
        first.wait(seconds: 20) { first.stderr.contains("tail following") }
        // Eight rounds of ten objects: each read, then two days old; the next re-listing prunes them.
        var most = 0
        for round in 0..<8 {
            let keys = Self.objects[(round * 10)..<(round * 10 + 10)].map { key($0) }
            for (relative, key) in zip(Self.objects[(round * 10)..<(round * 10 + 10)], keys) {
                try s3.admin([
                    "op": "put", "bucket": "tail-undated", "key": key, "file": Self.samples + "/AWSLogs/" + relative,
                ])
            }
            let read = first.wait(seconds: 60) { rowsOf(keys) == keys.count }
            try #require(read, "round \(round): \(rowsOf(keys)) of \(keys.count) read; \(first.stderr)")
            most = max(most, rows())
            try s3.admin(["op": "age", "bucket": "tail-undated", "prefix": prefix, "seconds": "\(2 * 86_400)"])
            let pruned = first.wait(seconds: 20) { rows() == 0 }
            #expect(pruned, "round \(round): \(rows()) ledger rows after the objects were two days old")
            guard pruned else { break }
        }
        #expect(most <= 10, "\(most) ledger rows at most")
        // An old object rewritten: a new ETag and LastModified, read again.
        let rewritten = key(Self.objects[0])
        try s3.admin([
            "op": "put", "bucket": "tail-undated", "key": rewritten,
            "file": Self.samples + "/AWSLogs/" + Self.objects[1],
        ])
        #expect(first.wait(seconds: 30) { rowsOf([rewritten]) == 1 }, "\(first.stderr)")
        // Not notified (its key does not end .gz), its LastModified six hours back: before the earlier
        // listings, but within the window.
        let late = key(Self.objects[2], period: "2026-12") + ".late"
        try s3.admin([
            "op": "put", "bucket": "tail-undated", "key": late, "file": Self.samples + "/AWSLogs/" + Self.objects[2],
            "age": "\(6 * 3600)",
        ])
        #expect(first.wait(seconds: 30) { rowsOf([late]) == 1 }, "\(first.stderr)")
        // A few more re-listings: nothing read again.
        Thread.sleep(forTimeInterval: 3)
        #expect(first.stop() == 0)
        #expect(first.stderr.contains("tail stopped: \(Self.objects.count + 2) object(s) read"), "\(first.stderr)")
        #expect(!first.stderr.contains("error:"), "\(first.stderr)")
        let alerts = Self.alerts(first.stdout)
        #expect(Set(alerts) == Set(Self.reference))
        #expect(alerts.count == Set(alerts).count, "an alert printed twice: \(alerts)")
        #expect(rows() == 2)
        let mark = try BuiltBinary.run([
            "query", "--store", store, "--output", "csv", "SELECT location FROM object_modified_marks",
        ])
        #expect(mark.stdout.contains(location), "\(mark.stdout)")
        // Restarted: the old objects are skipped by the mark (their rows are gone), the recent two are in
        // the ledger.
        let second = try Daemon(s3, dir: dir.path, queue: queue.url, locations: [location], extra: extra)
        second.wait(seconds: 4) { false }
        #expect(second.stop() == 0)
        #expect(second.stderr.contains("tail stopped: 0 object(s) read"), "\(second.stderr)")
    }

    /// The start's listing of a trail laid out by day, several accounts over several days (the sample
    /// trail under its own keys): the whole prefix is listed once for its days, then each account's day
    /// is listed and read, oldest day first, so that memory holds one day's keys; the alerts are those of
    /// `ingest` of a local copy (the same delivery-time order).
    @Test func aStartListingReadsATrailOneDayAtATimeInDeliveryOrder() throws {
        let s3 = try fixture()
        s3.configure()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try s3.admin(["op": "create_bucket", "bucket": "tail-by-day"])
        for relative in Self.objects {
            try s3.admin([
                "op": "put", "bucket": "tail-by-day", "key": "AWSLogs/" + relative,
                "file": Self.samples + "/AWSLogs/" + relative,
            ])
        }
        let stemDays = Set(Self.objects.map { $0.split(separator: "/").dropLast().joined(separator: "/") })
        s3.configure()
        let result = try BuiltBinary.run(
            ["tail", "--once", "--store", dir.path + "/s.db", "--endpoint-url", s3.proxyEndpoint]
                + S3IngestTests.configuration + ["s3://tail-by-day/AWSLogs/"],
            timeout: 120, environment: S3Fixture.environment())
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("tail stopped: \(Self.objects.count) object(s) read"), "\(result.stderr)")
        let alerts = Self.alerts(result.stdout)
        #expect(Set(alerts) == Set(Self.reference), "\(alerts)")
        #expect(alerts.count == Set(alerts).count, "an alert printed twice: \(alerts)")
        // One listing of the prefix (one page), then one of each account's day.
        #expect(s3.faults()["lists"] == 1 + stemDays.count, "\(s3.faults())")
    }

    /// An object of an undated layout that S3 keeps refusing holds the prefix's LastModified mark: it is
    /// not skipped though it is older than the window, it is tried again at each re-listing, and is read
    /// once S3 serves it; then the mark moves on and the ledger is pruned.
    @Test func anUndatedObjectThatCannotBeReadHoldsTheMarkUntilItIsRead() throws {
        let s3 = try fixture()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try s3.admin(["op": "create_bucket", "bucket": "tail-undated-denied"])
        let prefix = "exports/cur2/data/"
        let objects = Array(Self.objects.prefix(3))
        let keys = objects.map { "\(prefix)BILLING_PERIOD=2026-10/" + String($0.split(separator: "/").last!) }
        // Two days old (past the window) when tail first lists them.
        for (relative, key) in zip(objects, keys) {
            try s3.admin([
                "op": "put", "bucket": "tail-undated-denied", "key": key, "file": Self.samples + "/AWSLogs/" + relative,
                "age": "\(2 * 86_400)",
            ])
        }
        let denied = String(keys[1].split(separator: "/").last!)
        s3.configure(["deny": denied])
        let store = dir.path + "/s.db"
        func rows() -> [String] {
            let r = try? BuiltBinary.run([
                "query", "--store", store, "--output", "csv", "SELECT path FROM files ORDER BY path",
            ])
            return r.map { $0.stdout.split(separator: "\n").dropFirst().map(String.init) } ?? []
        }
        let daemon = try Daemon(
            s3, dir: dir.path, queue: nil, locations: ["s3://tail-undated-denied/\(prefix)"],
            extra: ["--relist-interval", "1"])
        let refusal = "\(denied):offset 0: error: [input] AccessDenied"
        let refusals = { daemon.stderr.split(separator: "\n").filter { $0.contains(refusal) } }
        // Refused at the start's listing and again at later re-listings.
        let retried = daemon.wait(seconds: 30) { refusals().count >= 3 }
        #expect(retried, "\(rows()); \(daemon.stderr)")
        // Meanwhile the last one put (not before the refused one) keeps its row: the mark is held.
        #expect(rows().contains("s3://tail-undated-denied/\(keys[2])"), "\(rows())")
        s3.configure()
        // Read (and at once older than the window): the mark passes the three, and their rows go.
        #expect(daemon.wait(seconds: 30) { rows().isEmpty }, "\(rows()); \(daemon.stderr)")
        #expect(daemon.stop() == 0)
        #expect(daemon.stderr.contains("tail stopped: 3 object(s) read"), "\(daemon.stderr)")
    }

    /// kill -9 while the daemon is inside one object's GetObject, its body streaming: the fault proxy
    /// sends that body in pieces over 20 s and counts them, so the kill lands after some bytes and before
    /// the end. Nothing of the object is committed, its message is not deleted, and the restart reads it
    /// once (the start's listing, then its message comes back and is found in the ledger): alerts, ledger
    /// and events are those of `ingest` of a local copy.
    @Test func aKillInsideAnObjectsReadLosesNothingAndReadsNothingTwice() throws {
        let s3 = try fixture()
        s3.configure()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try s3.admin(["op": "create_bucket", "bucket": "tail-midobject"])
        let queue = try s3.makeQueue("tail-midobject")
        try s3.admin(["op": "notify", "bucket": "tail-midobject", "queue_arn": queue.arn])
        let extra = ["--visibility-timeout", "4"]
        let location = "s3://tail-midobject/AWSLogs/"
        let first = try Daemon(s3, dir: dir.path, queue: queue.url, locations: [location], extra: extra)
        let slow = Self.objects.last!
        try put(s3, bucket: "tail-midobject", Self.objects.dropLast())
        let caughtUp = try first.wait {
            try first.committed() == Self.objects.count - 1 && s3.queueCounts(queue.url) == (0, 0)
        }
        try #require(caughtUp, "\(first.committed()) of \(Self.objects.count - 1) committed; \(first.stderr)")
        s3.configure(["slow-body": String(slow.split(separator: "/").last!), "slow-seconds": "20"])
        try put(s3, bucket: "tail-midobject", [slow])
        let inside = first.wait(seconds: 30) { (s3.faults()["slow-pieces"] ?? 0) >= 2 }
        first.kill9()
        let faults = s3.faults()
        s3.configure()
        try #require(inside, "the daemon did not start reading the object: \(faults); \(first.stderr)")
        #expect(faults["slow-body"] == 1 && faults["slow-done"] == 0, "the kill came after the body: \(faults)")
        // Not committed, and its message (the only one left: the others' were deleted) not deleted.
        #expect(first.committed() == Self.objects.count - 1)
        let left = try s3.queueCounts(queue.url)
        #expect(left.visible + left.inFlight == 1, "\(left)")
        let second = try Daemon(s3, dir: dir.path, queue: queue.url, locations: [location], extra: extra)
        let done = try second.wait {
            try second.committed() == Self.objects.count && s3.queueCounts(queue.url) == (0, 0)
        }
        #expect(done, "\(second.committed()) of \(Self.objects.count) committed; \(second.stderr)")
        #expect(second.stop() == 0)
        #expect(second.stderr.contains("tail stopped: 1 object(s) read"), "\(second.stderr)")
        // Both runs' alerts (one stdout file): ingest's, each once.
        let alerts = Self.alerts(second.stdout)
        #expect(Set(alerts) == Set(Self.reference))
        #expect(alerts.count == Set(alerts).count, "an alert printed twice: \(alerts)")
        // Ledger (each object's name, records and rejected records) and events: ingest's of a local copy.
        let local = try BuiltBinary.run(
            ["ingest", "--store", dir.path + "/local.db", "--quiet"] + S3IngestTests.configuration
                + [Self.samples + "/AWSLogs"])
        #expect(local.status == 0, "\(local.stderr)")
        func table(_ store: String, _ sql: String) throws -> [String] {
            try BuiltBinary.run(["query", "--store", dir.path + "/" + store, "--output", "csv", sql]).stdout
                .split(separator: "\n").map(String.init).sorted()
        }
        let ledger = "SELECT replace(path, rtrim(path, replace(path, '/', '')), ''), records, rejected FROM files"
        let tailLedger = try table("s.db", ledger)
        #expect(tailLedger.count == Self.objects.count + 1)
        #expect(tailLedger == (try table("local.db", ledger)))
        let events = "SELECT event_id, time, resource_id FROM events"
        #expect(try table("s.db", events) == (try table("local.db", events)))
    }

    @Test func aMissingQueueStopsTheStartNamingItsAWSCode() throws {
        let s3 = try fixture()
        s3.configure()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let url = "http://127.0.0.1:\(s3.motoPort)/123456789012/no-such-queue"
        let result = try BuiltBinary.run(
            ["tail", "--store", dir.path + "/s.db", "--endpoint-url", s3.proxyEndpoint, "--sqs", url]
                + S3IngestTests.configuration
                + ["s3://logs/AWSLogs/"], timeout: 60, environment: S3Fixture.environment())
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(url): error: [sqs] QueueDoesNotExist, HTTP 400"), "\(result.stderr)")
    }

    @Test(arguments: [
        (
            ["--sqs", "https://sqs.us-east-1.amazonaws.com/123456789012/q", "/tmp"],
            "--sqs follows s3://bucket/prefix locations"
        ),
        (["s3://logs/AWSLogs/", "/tmp"], "either s3:// locations or local paths"),
        (["--sqs", "not-a-url", "s3://logs/AWSLogs/"], "--sqs takes a queue URL"),
        (["--relist-interval", "0", "s3://logs/AWSLogs/"], "--relist-interval takes"),
    ])
    func badObjectOptionsAreUsageErrors(arguments: [String], message: String) throws {
        let result = try BuiltBinary.run(["tail", "--store", "/tmp/unused-tail-s3.db"] + arguments)
        #expect(result.status == 2, "\(result.status)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
