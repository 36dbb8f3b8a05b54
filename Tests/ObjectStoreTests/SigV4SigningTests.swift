import Foundation
import ObjectStore
import Testing

/// SigV4 against AWS's published values: the Signature Version 4 test suite (`get-vanilla`,
/// `get-vanilla-query-order-key-case`) and the S3 API reference's examples (GetObject with a Range,
/// ListObjects), plus one case with a session token, a port and a key that needs encoding, whose
/// signature botocore's own signer gives.
struct SigV4SigningTests {
    static let suiteCredentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", source: "test")
    static let s3Credentials = AWSCredentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", source: "test"
    )
    /// 2015-08-30T12:36:00Z, the test suite's time.
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)
    /// 2013-05-24T00:00:00Z, the S3 examples' time.
    static let s3Date = Date(timeIntervalSince1970: 1_369_353_600)

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var request: HTTPRequest
        var service: String
        var region: String
        var credentials: AWSCredentials
        var date: Date
        var expected: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "get-vanilla", request: HTTPRequest(method: "GET", host: "example.amazonaws.com", path: "/"),
            service: "service", region: "us-east-1", credentials: suiteCredentials, date: suiteDate,
            expected:
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        ),
        Case(
            name: "get-vanilla-query-order-key-case",
            request: HTTPRequest(
                method: "GET", host: "example.amazonaws.com", path: "/",
                query: [("Param2", "value2"), ("Param1", "value1")]),
            service: "service", region: "us-east-1", credentials: suiteCredentials, date: suiteDate,
            expected:
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        ),
        Case(
            name: "S3 GetObject with Range",
            request: HTTPRequest(
                method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt",
                headers: [("Range", "bytes=0-9")]),
            service: "s3", region: "us-east-1", credentials: s3Credentials, date: s3Date,
            expected:
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        ),
        Case(
            name: "S3 ListObjects with a query",
            request: HTTPRequest(
                method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/",
                query: [("max-keys", "2"), ("prefix", "J")]),
            service: "s3", region: "us-east-1", credentials: s3Credentials, date: s3Date,
            expected:
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        ),
        Case(
            name: "S3 path-style, port, session token, key with a space and a plus",
            request: HTTPRequest(
                method: "GET", scheme: "http", host: "127.0.0.1:9000", path: "/my-bucket/AWSLogs/a b/x+y.json.gz"),
            service: "s3", region: "eu-west-1",
            credentials: AWSCredentials(
                accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                sessionToken: "FQoGZXIvYXdzEXAMPLETOKEN", source: "test"),
            date: suiteDate,
            expected:
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=23df6abf7e90c95bc0d1fdb702105f9656534511d8d1f4394c10e3948461497f"
        ),
    ]

    @Test(arguments: cases)
    func signsAsAWSPublishes(_ c: Case) {
        var request = c.request
        SigV4Signer(region: c.region, service: c.service).sign(&request, credentials: c.credentials, date: c.date)
        #expect(request.header("Authorization") == c.expected)
        #expect(request.header("X-Amz-Date") == SigV4Signer.timestamp(c.date))
    }

    @Test func theURLSentIsThePathAndQuerySigned() {
        let request = HTTPRequest(
            method: "GET", scheme: "http", host: "127.0.0.1:9000", path: "/b/AWSLogs/a b/ü+&=.json",
            query: [("prefix", "a/b c"), ("list-type", "2")])
        #expect(
            request.url == "http://127.0.0.1:9000/b/AWSLogs/a%20b/%C3%BC%2B%26%3D.json?list-type=2&prefix=a%2Fb%20c")
    }

    @Test func credentialsNeverPrintTheirSecretOrToken() {
        let credentials = AWSCredentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            sessionToken: "FQoGZXIvYXdzEXAMPLETOKEN", source: "environment")
        for text in [String(describing: credentials), String(reflecting: credentials), "\(credentials)"] {
            #expect(!text.contains("wJalr"))
            #expect(!text.contains("FQoG"))
            #expect(!text.contains("AKIAIOSFODNN7EXAMPLE"))
        }
    }
}
