import ObjectStore
import Testing

/// `s3://bucket/prefix` arguments and the input names of objects.
struct S3LocationTests {
    @Test(arguments: [
        ("s3://logs", "logs", ""),
        ("s3://logs/", "logs", ""),
        ("s3://org-trail.bucket/AWSLogs/o-abc123/", "org-trail.bucket", "AWSLogs/o-abc123/"),
        ("s3://billing_exports/cur2/data/BILLING_PERIOD=2026-03/", "billing_exports", "cur2/data/BILLING_PERIOD=2026-03/"),
    ])
    func parsesBucketAndPrefix(text: String, bucket: String, prefix: String) throws {
        let location = try #require(S3Location.parse(text))
        #expect(location.bucket == bucket)
        #expect(location.prefix == prefix)
    }

    @Test(arguments: ["s3://", "s3:///AWSLogs", "s3://ab/x", "s3://Logs/x", "s3://lo gs/x", "logs/AWSLogs", "S3://logs/x"])
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
}
