import Foundation
import ObjectStore
import TestSupport
import Testing

/// `s3://bucket/prefix` arguments and the input names of objects.
struct S3LocationTests {
    @Test(arguments: [
        ("s3://logs", "logs", ""),
        ("s3://logs/", "logs", ""),
        ("s3://org-trail.bucket/AWSLogs/o-abc123/", "org-trail.bucket", "AWSLogs/o-abc123/"),
        (
            "s3://billing_exports/cur2/data/BILLING_PERIOD=2026-03/", "billing_exports",
            "cur2/data/BILLING_PERIOD=2026-03/"
        ),
    ])
    func parsesBucketAndPrefix(text: String, bucket: String, prefix: String) throws {
        let location = try #require(S3Location.parse(text))
        #expect(location.bucket == bucket)
        #expect(location.prefix == prefix)
    }

    @Test(arguments: [
        "s3://", "s3:///AWSLogs", "s3://ab/x", "s3://Logs/x", "s3://lo gs/x", "logs/AWSLogs", "S3://logs/x",
    ])
    func refusesWhatIsNotABucket(text: String) {
        #expect(S3Location.parse(text) == nil)
    }

    @Test(arguments: ["AWSLogs/1/CloudTrail/a.json.gz", "a b/c+d/%41.json", "dir//double/../dots", "/leading"])
    func anObjectsInputNameGivesBackItsBucketAndKey(key: String) throws {
        let name = S3Location.inputName(bucket: "logs", key: key)
        #expect(name == "s3://logs/" + key)
        let (bucket, back) = try #require(S3Location.object(fromInputName: name))
        #expect(bucket == "logs")
        #expect(back == key)
    }

    @Test func localPathsAreNotObjects() {
        #expect(S3Location.object(fromInputName: "/var/log/a.json.gz") == nil)
        #expect(!S3Location.isLocation("./s3://x"))
    }

    @Test(arguments: [
        ("s3://logs/AWSLogs/", "s3://logs/AWSLogs/111122223333/", true),
        ("s3://logs/AWSLogs/111122223333/", "s3://logs/AWSLogs/", true),
        ("s3://logs/AWSLogs", "s3://logs/AWSLogs2/", true),  // plain string prefixes, as ListObjectsV2's
        ("s3://logs", "s3://logs/AWSLogs/", true),
        ("s3://logs/AWSLogs/", "s3://logs/AWSLogs/", true),
        ("s3://logs/AWSLogs/111122223333/", "s3://logs/AWSLogs/444455556666/", false),
        ("s3://logs/AWSLogs/", "s3://other-logs/AWSLogs/", false),
    ])
    func locationsOverlapWhenOnePrefixStartsWithTheOthers(first: String, second: String, overlap: Bool) throws {
        let a = try #require(S3Location.parse(first))
        let b = try #require(S3Location.parse(second))
        #expect(a.overlaps(b) == overlap)
        #expect(b.overlaps(a) == overlap)
    }

    /// Overlapping locations would read their common objects twice and prune each other's ledger rows
    /// (tail's bound by day or by LastModified, under each prefix): ingest and tail refuse them before
    /// anything is listed (no endpoint is needed), naming both.
    @Test(arguments: [
        (["ingest", "--no-store"], ["s3://logs/AWSLogs/", "s3://logs/AWSLogs/111122223333/"]),
        (["ingest", "--no-store"], ["s3://logs/AWSLogs/111122223333/", "/tmp", "s3://logs/AWSLogs/"]),
        (["tail", "--store", "/tmp/unused-overlap.db"], ["s3://logs/AWSLogs/111122223333/", "s3://logs/AWSLogs/"]),
        (["tail", "--store", "/tmp/unused-overlap.db", "--once"], ["s3://logs/cur2/", "s3://logs/cur2/data/"]),
    ])
    func overlappingLocationsAreAUsageErrorNamingBoth(command: [String], locations: [String]) throws {
        let result = try BuiltBinary.run(command + locations, timeout: 30)
        #expect(result.status == 2, "\(result.stderr)")
        let s3 = locations.filter { $0.hasPrefix("s3://") }
        for location in s3 { #expect(result.stderr.contains("'\(location)'"), "\(result.stderr)") }
        #expect(result.stderr.contains("overlap"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func aLocationNamedTwiceIsAUsageError() throws {
        let result = try BuiltBinary.run(
            ["ingest", "--no-store", "s3://logs/AWSLogs/", "s3://logs/AWSLogs/"], timeout: 30)
        #expect(result.status == 2)
        #expect(result.stderr.contains("'s3://logs/AWSLogs/' is named twice"), "\(result.stderr)")
    }
}
