import Crypto
public import Foundation

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`) in the Authorization header: canonical request,
/// string to sign, signing key derived from the secret by date, region and service.
public struct SigV4Signer: Sendable {
    public var region: String
    public var service: String

    public init(region: String, service: String) {
        self.region = region
        self.service = service
    }

    /// The hex SHA-256 of an empty payload.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Adds `X-Amz-Date`, `X-Amz-Security-Token` (temporary credentials), `X-Amz-Content-Sha256` (S3)
    /// and `Authorization` to `request`, signing every header it has.
    public func sign(_ request: inout HTTPRequest, credentials: AWSCredentials, date: Date = Date()) {
        let stamp = Self.timestamp(date)
        request.headers.removeAll {
            ["authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"].contains(
                $0.name.lowercased())
        }
        let payloadHash = Self.hex(SHA256.hash(data: request.body))
        request.headers.append(("X-Amz-Date", stamp))
        if service == "s3" { request.headers.append(("X-Amz-Content-Sha256", payloadHash)) }
        if let token = credentials.sessionToken { request.headers.append(("X-Amz-Security-Token", token)) }
        if request.header("host") == nil { request.headers.append(("Host", request.host)) }
        let authorization = self.authorization(
            for: request, payloadHash: payloadHash, credentials: credentials, timestamp: stamp)
        request.headers.append(("Authorization", authorization))
    }

    /// The Authorization header's value for `request` as it stands (every header signed).
    public func authorization(
        for request: HTTPRequest, payloadHash: String, credentials: AWSCredentials, timestamp: String
    ) -> String {
        let (canonical, signedHeaders) = canonicalRequest(request, payloadHash: payloadHash)
        let day = String(timestamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign =
            "AWS4-HMAC-SHA256\n\(timestamp)\n\(scope)\n\(Self.hex(SHA256.hash(data: Array(canonical.utf8))))"
        let key = signingKey(secret: credentials.secretAccessKey, day: day)
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        return
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    /// The canonical request and the signed-header list.
    public func canonicalRequest(_ request: HTTPRequest, payloadHash: String) -> (String, String) {
        var byName: [String: [String]] = [:]
        for (name, value) in request.headers {
            byName[name.lowercased(), default: []].append(Self.collapse(value))
        }
        let names = byName.keys.sorted()
        let headerBlock = names.map { "\($0):\(byName[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        // S3 signs the path as sent (encoded once); other services encode the encoded path again.
        let path = service == "s3" ? request.encodedPath : Self.encode(request.encodedPath, keepSlash: true)
        let canonical = [
            request.method, path.isEmpty ? "/" : path, request.encodedQuery, headerBlock, signedHeaders, payloadHash,
        ].joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    private func signingKey(secret: String, day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(secret)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// `YYYYMMDDTHHMMSSZ` in UTC.
    public static func timestamp(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters (and `/` when `keepSlash`).
    public static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func collapse(_ value: String) -> String {
        var out = ""
        var lastSpace = false
        for ch in value.trimmingCharacters(in: .whitespaces) {
            if ch == " " || ch == "\t" {
                if !lastSpace { out.append(" ") }
                lastSpace = true
            } else {
                out.append(ch)
                lastSpace = false
            }
        }
        return out
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
