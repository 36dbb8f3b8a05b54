import Foundation
import ObjectStore
import S3TestSupport
import TestSupport
import Testing

/// Credentials and region found where the AWS CLI finds them, in its order.
struct CredentialResolutionTests {
    /// An environment with no instance metadata probe (no 1 s wait for 169.254.169.254).
    static func environment(_ values: [String: String], home: String) -> [String: String] {
        var env = values
        env["HOME"] = home
        env["AWS_EC2_METADATA_DISABLED"] = "true"
        return env
    }

    static let credentialsFile = """
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = default-secret

        # a comment
        [audit]
        aws_access_key_id=AKIDAUDIT
        aws_secret_access_key=audit-secret ; inline comment
        aws_session_token = audit-token
        """

    static let configFile = """
        [default]
        region = eu-central-1

        [profile audit]
        region = ap-southeast-1
        s3 =
          addressing_style = path

        [profile config-only]
        aws_access_key_id = AKIDCONFIG
        aws_secret_access_key = config-secret
        region = us-west-2
        """

    static func home() -> TemporaryDirectory {
        let dir = TemporaryDirectory()
        _ = dir.write(".aws/credentials", credentialsFile)
        _ = dir.write(".aws/config", configFile)
        return dir
    }

    @Test func theEnvironmentComesFirst() throws {
        let dir = Self.home()
        defer { dir.remove() }
        let provider = CredentialProvider(
            environment: Self.environment(
                [
                    "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret",
                    "AWS_SESSION_TOKEN": "env-token",
                    "AWS_PROFILE": "audit", "AWS_REGION": "sa-east-1",
                ], home: dir.path))
        let found = try provider.credentials()
        #expect(found.accessKeyID == "AKIDENV")
        #expect(found.sessionToken == "env-token")
        #expect(found.source == "environment")
        #expect(provider.region == "sa-east-1")
    }

    @Test func theDefaultProfileOfTheSharedFiles() throws {
        let dir = Self.home()
        defer { dir.remove() }
        let provider = CredentialProvider(environment: Self.environment([:], home: dir.path))
        let found = try provider.credentials()
        #expect(found.accessKeyID == "AKIDDEFAULT")
        #expect(found.secretAccessKey == "default-secret")
        #expect(found.sessionToken == nil)
        #expect(provider.region == "eu-central-1")
    }

    @Test func aNamedProfileWithItsTokenAndRegion() throws {
        let dir = Self.home()
        defer { dir.remove() }
        let provider = CredentialProvider(environment: Self.environment(["AWS_PROFILE": "audit"], home: dir.path))
        let found = try provider.credentials()
        #expect(found.accessKeyID == "AKIDAUDIT")
        #expect(found.secretAccessKey == "audit-secret")
        #expect(found.sessionToken == "audit-token")
        #expect(found.source == "shared credentials file, profile audit")
        #expect(provider.region == "ap-southeast-1")
    }

    @Test func keysInTheConfigFileWhenTheCredentialsFileHasNone() throws {
        let dir = Self.home()
        defer { dir.remove() }
        let provider = CredentialProvider(
            environment: Self.environment(["AWS_PROFILE": "config-only"], home: dir.path))
        let found = try provider.credentials()
        #expect(found.accessKeyID == "AKIDCONFIG")
        #expect(provider.region == "us-west-2")
    }

    @Test func filesNamedByTheEnvironment() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let credentials = dir.write(
            "elsewhere/creds", "[ops]\naws_access_key_id = AKIDOPS\naws_secret_access_key = s\n")
        let config = dir.write("elsewhere/conf", "[profile ops]\nregion = ca-central-1\n")
        let provider = CredentialProvider(
            environment: Self.environment(
                ["AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_CONFIG_FILE": config, "AWS_DEFAULT_PROFILE": "ops"],
                home: dir.path))
        #expect(try provider.credentials().accessKeyID == "AKIDOPS")
        #expect(provider.region == "ca-central-1")
    }

    @Test func noCredentialsNamesWhereItLookedAndWhatToSet() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let provider = CredentialProvider(environment: Self.environment(["AWS_PROFILE": "missing"], home: dir.path))
        let error = try #require(throws: ObjectStoreError.self) { try provider.credentials() }
        #expect(error.code == .noCredentials)
        #expect(error.message.contains(dir.path + "/.aws/credentials"))
        #expect(error.message.contains("profile 'missing'"))
        #expect(error.message.contains("AWS_ACCESS_KEY_ID"))
    }

    @Test func anEndpointFromTheEnvironment() {
        let provider = CredentialProvider(
            environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:2"])
        #expect(provider.endpointURL(service: "s3") == "http://127.0.0.1:2")
        #expect(provider.endpointURL(service: "sqs") == "http://127.0.0.1:1")
    }
}

/// Credentials from the endpoints the AWS CLI asks when nothing local has them: EC2 instance metadata
/// (IMDSv2) and the ECS container endpoint, faked on loopback (Fixtures/credential-endpoints.py),
/// and STS AssumeRoleWithWebIdentity (moto).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "python3 is not installed"))
struct CredentialEndpointTests {
    final class Endpoints: @unchecked Sendable {
        let process = Process()
        let stdin = Pipe()
        let port: Int

        init() throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [Repository.fixtures(.objectStoreTests) + "/credential-endpoints.py"]
            let stdout = Pipe()
            process.standardInput = stdin
            process.standardOutput = stdout
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line = Data()
            while !line.contains(0x0A) {
                let piece = stdout.fileHandleForReading.availableData
                if piece.isEmpty { break }
                line += piece
            }
            let object = try JSONSerialization.jsonObject(with: line) as? [String: Int]
            port = try #require(object?["port"])
        }

        func stop() {
            try? stdin.fileHandleForWriting.close()
            process.waitUntilExit()
        }

        var requests: [String] {
            let request = HTTPRequest(method: "GET", scheme: "http", host: "127.0.0.1:\(port)", path: "/__requests")
            guard case .success(let response) = HTTPClient().send(request, totalTimeout: 5) else { return [] }
            return (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String]) ?? []
        }
    }

    static func environment(_ values: [String: String], home: String) -> [String: String] {
        var env = values
        env["HOME"] = home
        return env
    }

    @Test func instanceMetadataWithASessionTokenFirst() throws {
        let endpoints = try Endpoints()
        defer { endpoints.stop() }
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let provider = CredentialProvider(
            environment: Self.environment(
                ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(endpoints.port)"], home: dir.path))
        let found = try provider.credentials()
        #expect(found.accessKeyID == "ASIAIMDSEXAMPLE")
        #expect(found.secretAccessKey == "imds-secret")
        #expect(found.sessionToken == "imds-token")
        #expect(found.source == "EC2 instance metadata (role reader-role)")
        #expect(found.expiration != nil)
        // IMDSv2: the token before anything else (the fake refuses a GET without it).
        #expect(
            endpoints.requests.prefix(3) == [
                "PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/",
                "GET /latest/meta-data/iam/security-credentials/reader-role",
            ])
    }

    @Test func theECSContainerEndpointWithItsAuthorizationToken() throws {
        let endpoints = try Endpoints()
        defer { endpoints.stop() }
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let tokenFile = dir.write("ecs-token", "ecs-authorization\n")
        let provider = CredentialProvider(
            environment: Self.environment(
                [
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:\(endpoints.port)/ecs/credentials",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile, "AWS_EC2_METADATA_DISABLED": "true",
                ], home: dir.path))
        let found = try provider.credentials()
        #expect(found.accessKeyID == "ASIAECSEXAMPLE")
        #expect(found.sessionToken == "ecs-token")
        #expect(found.expiration != nil)
    }

    @Test(.enabled(if: S3Fixture.available, "moto[server] is not installed (pip install 'moto[server]')"))
    func aWebIdentityTokenExchangedWithSTS() throws {
        let s3 = try #require(S3Fixture.shared)
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let tokenFile = dir.write("web-identity-token", "eyJhbGciOiJSUzI1NiJ9.example.signature\n")
        let provider = CredentialProvider(
            environment: Self.environment(
                [
                    "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/reader",
                    "AWS_ENDPOINT_URL_STS": s3.motoEndpoint, "AWS_EC2_METADATA_DISABLED": "true",
                ], home: dir.path))
        let found = try provider.credentials()
        #expect(found.accessKeyID.hasPrefix("ASIA"))
        #expect(found.sessionToken?.isEmpty == false)
        #expect(found.source == "web identity (arn:aws:iam::123456789012:role/reader)")
        let expiration = try #require(found.expiration)
        #expect(expiration > Date())
    }
}
