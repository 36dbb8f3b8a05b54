public import Foundation
import UsageModel

/// Finds credentials and region as the AWS CLI does, in its order: the environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`); a web-identity token
/// (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, or the profile's `web_identity_token_file` and
/// `role_arn`) exchanged with STS; the shared credentials file, then the config file, for the profile
/// (`AWS_PROFILE`, default `default`); the ECS container endpoint
/// (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI`); EC2 instance metadata (IMDSv2).
/// Temporary credentials are fetched again five minutes before they expire.
public final class CredentialProvider: @unchecked Sendable {
    public let environment: [String: String]
    public let profile: String
    private let http: HTTPClient
    private let lock = NSLock()
    private var cached: AWSCredentials?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, http: HTTPClient = HTTPClient()) {
        self.environment = environment
        profile =
            environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["AWS_DEFAULT_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        self.http = http
    }

    private var home: String { environment["HOME"] ?? NSHomeDirectory() }

    private func expand(_ path: String) -> String {
        path.hasPrefix("~/") ? home + path.dropFirst(1) : path
    }

    /// `AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`.
    public var credentialsFilePath: String {
        expand(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials")
    }

    /// `AWS_CONFIG_FILE` or `~/.aws/config`.
    public var configFilePath: String { expand(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config") }

    private var profileConfig: [String: String] {
        SharedConfigFile.load(path: configFilePath, isConfig: true)?.sections[profile] ?? [:]
    }

    /// `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else `us-east-1`.
    public var region: String {
        for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let value = environment[name], !value.isEmpty { return value }
        }
        return profileConfig["region"] ?? "us-east-1"
    }

    /// The endpoint for `service` from `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, or the profile's
    /// `endpoint_url`; nil: AWS's own.
    public func endpointURL(service: String) -> String? {
        if let value = environment["AWS_ENDPOINT_URL_\(service.uppercased())"], !value.isEmpty { return value }
        if let value = environment["AWS_ENDPOINT_URL"], !value.isEmpty { return value }
        return profileConfig["endpoint_url"]
    }

    /// The credentials to sign with now (cached until five minutes before they expire).
    /// - Throws: ``ObjectStoreError`` `.noCredentials` naming every place looked at.
    public func credentials() throws(ObjectStoreError) -> AWSCredentials {
        lock.lock()
        defer { lock.unlock() }
        if let cached, cached.expiration.map({ $0.timeIntervalSinceNow > 300 }) ?? true { return cached }
        let found = try resolve()
        cached = found
        return found
    }

    /// Forgets cached credentials (after `ExpiredToken`).
    public func invalidate() {
        lock.lock()
        cached = nil
        lock.unlock()
    }

    private func resolve() throws(ObjectStoreError) -> AWSCredentials {
        if let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !key.isEmpty,
            !secret.isEmpty
        {
            return AWSCredentials(
                accessKeyID: key, secretAccessKey: secret,
                sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }, source: "environment")
        }
        let config = profileConfig
        let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"] ?? config["web_identity_token_file"]
        let roleARN = environment["AWS_ROLE_ARN"] ?? config["role_arn"]
        if let tokenFile, let roleARN, !tokenFile.isEmpty {
            return try webIdentity(tokenFile: expand(tokenFile), roleARN: roleARN, config: config)
        }
        if let file = SharedConfigFile.load(path: credentialsFilePath, isConfig: false),
            let section = file.sections[profile],
            let found = Self.keys(in: section, source: "shared credentials file, profile \(profile)")
        {
            return found
        }
        if let found = Self.keys(in: config, source: "config file, profile \(profile)") { return found }
        if environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] != nil
            || environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] != nil
        {
            return try container()
        }
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() != "true",
            let found = try instanceMetadata()
        {
            return found
        }
        throw ObjectStoreError(
            code: .noCredentials,
            message:
                "no AWS credentials found (looked at the environment, a web-identity token, \(credentialsFilePath) and \(configFilePath) for profile '\(profile)', the ECS container endpoint and EC2 instance metadata); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
        )
    }

    private static func keys(in section: [String: String], source: String) -> AWSCredentials? {
        guard let key = section["aws_access_key_id"], let secret = section["aws_secret_access_key"], !key.isEmpty,
            !secret.isEmpty
        else { return nil }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: section["aws_session_token"], source: source)
    }

    // MARK: web identity (STS AssumeRoleWithWebIdentity, an unsigned call)

    private func webIdentity(tokenFile: String, roleARN: String, config: [String: String]) throws(ObjectStoreError)
        -> AWSCredentials
    {
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw ObjectStoreError(
                code: .badCredentialsFile,
                message: "cannot read the web-identity token file '\(tokenFile)'; check AWS_WEB_IDENTITY_TOKEN_FILE")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let session = environment["AWS_ROLE_SESSION_NAME"] ?? config["role_session_name"] ?? "chiptrail-\(getpid())"
        let endpoint = endpointURL(service: "sts") ?? "https://sts.\(region).amazonaws.com"
        guard
            var request = Endpoint.parse(endpoint).map({
                HTTPRequest(method: "POST", scheme: $0.scheme, host: $0.host, path: $0.path.isEmpty ? "/" : $0.path)
            })
        else {
            throw ObjectStoreError(code: .badLocation, message: "cannot parse the STS endpoint '\(endpoint)'")
        }
        let form: [(String, String)] = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
            ("RoleSessionName", session), ("WebIdentityToken", token),
        ]
        request.body = Array(
            form.map { "\($0.0)=\(SigV4Signer.encode($0.1, keepSlash: false))" }.joined(separator: "&").utf8)
        request.headers = [("Content-Type", "application/x-www-form-urlencoded")]
        let response = try fetch(request, what: "STS AssumeRoleWithWebIdentity for \(roleARN)")
        let xml = XMLFields(response.body)
        guard let key = xml.first("AccessKeyId"), let secret = xml.first("SecretAccessKey") else {
            throw ObjectStoreError(
                code: .invalidResponse, message: "STS answered AssumeRoleWithWebIdentity without credentials")
        }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: xml.first("SessionToken"),
            expiration: xml.first("Expiration").flatMap(Self.parseTime), source: "web identity (\(roleARN))")
    }

    // MARK: ECS container credentials

    private func container() throws(ObjectStoreError) -> AWSCredentials {
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            url = "http://169.254.170.2" + relative
        } else {
            url = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] ?? ""
        }
        guard let endpoint = Endpoint.parse(url) else {
            throw ObjectStoreError(code: .badLocation, message: "cannot parse the container credentials URI")
        }
        var request = HTTPRequest(
            method: "GET", scheme: endpoint.scheme, host: endpoint.host, path: endpoint.path,
            query: endpoint.query)
        var authorization = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"],
            let data = FileManager.default.contents(atPath: file)
        {
            authorization = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if let authorization { request.headers.append(("Authorization", authorization)) }
        let response = try fetch(request, what: "the ECS container credentials endpoint")
        return try Self.jsonCredentials(response.body, source: "ECS container endpoint")
    }

    // MARK: EC2 instance metadata, IMDSv2 (a session token first)

    private func instanceMetadata() throws(ObjectStoreError) -> AWSCredentials? {
        let base = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254"
        guard let endpoint = Endpoint.parse(base) else { return nil }
        let client = HTTPClient()
        client.connectTimeout = 1
        var tokenRequest = HTTPRequest(
            method: "PUT", scheme: endpoint.scheme, host: endpoint.host, path: "/latest/api/token",
            headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")])
        tokenRequest.body = []
        guard case .success(let tokenResponse) = client.send(tokenRequest, totalTimeout: 2),
            tokenResponse.status == 200
        else { return nil }  // not on EC2 (or metadata off): not an error, just not this source
        let token = String(decoding: tokenResponse.body, as: UTF8.self)
        let headers = [("X-aws-ec2-metadata-token", token)]
        let rolePath = "/latest/meta-data/iam/security-credentials/"
        let roles = HTTPRequest(
            method: "GET", scheme: endpoint.scheme, host: endpoint.host, path: rolePath, headers: headers)
        guard case .success(let roleResponse) = client.send(roles, totalTimeout: 2), roleResponse.status == 200,
            let role = String(decoding: roleResponse.body, as: UTF8.self).split(separator: "\n").first
        else { return nil }
        let credentialsRequest = HTTPRequest(
            method: "GET", scheme: endpoint.scheme, host: endpoint.host, path: rolePath + role, headers: headers)
        guard case .success(let response) = client.send(credentialsRequest, totalTimeout: 2), response.status == 200
        else {
            throw ObjectStoreError(
                code: .noCredentials,
                message:
                    "EC2 instance metadata names role '\(role)' but gives no credentials for it; check the instance profile"
            )
        }
        return try Self.jsonCredentials(response.body, source: "EC2 instance metadata (role \(role))")
    }

    private func fetch(_ request: HTTPRequest, what: String) throws(ObjectStoreError) -> HTTPResponse {
        switch http.send(request, totalTimeout: 10) {
        case .failure(let error):
            throw ObjectStoreError(code: .noCredentials, message: "cannot reach \(what): \(error.message)")
        case .success(let response) where response.status / 100 != 2:
            let xml = XMLFields(response.body)
            throw ObjectStoreError(
                code: .noCredentials, awsCode: xml.first("Code"), httpStatus: response.status,
                message: "\(what) refused: \(xml.first("Message") ?? "no message"); check the role and its trust policy"
            )
        case .success(let response):
            return response
        }
    }

    private static func jsonCredentials(_ body: [UInt8], source: String) throws(ObjectStoreError) -> AWSCredentials {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let key = object["AccessKeyId"] as? String, let secret = object["SecretAccessKey"] as? String
        else {
            throw ObjectStoreError(code: .invalidResponse, message: "\(source) answered without credentials")
        }
        return AWSCredentials(
            accessKeyID: key, secretAccessKey: secret, sessionToken: object["Token"] as? String,
            expiration: (object["Expiration"] as? String).flatMap(parseTime), source: source)
    }

    /// `2026-12-03T05:02:55Z`, also with fractional seconds of any length (STS gives microseconds).
    static func parseTime(_ text: String) -> Date? {
        Timestamp.parse(text).map { Date(timeIntervalSince1970: Double($0)) }
    }
}

/// A parsed endpoint URL: `http://127.0.0.1:5000`, `https://s3.example.com/base`.
public struct Endpoint: Sendable, Equatable {
    public var scheme: String
    public var host: String
    public var path: String
    public var query: [(name: String, value: String)] = []

    public static func == (a: Endpoint, b: Endpoint) -> Bool {
        a.scheme == b.scheme && a.host == b.host && a.path == b.path
    }

    public static func parse(_ text: String) -> Endpoint? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else { return nil }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        let hostPort = components.port.map { "\(bracketed):\($0)" } ?? bracketed
        var path = components.path
        while path.hasSuffix("/") { path.removeLast() }
        let query = (components.queryItems ?? []).map { (name: $0.name, value: $0.value ?? "") }
        return Endpoint(scheme: scheme, host: hostPort, path: path, query: query)
    }
}
