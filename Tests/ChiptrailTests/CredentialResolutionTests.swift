import Foundation
import ObjectStore
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
                ["AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token",
                 "AWS_PROFILE": "audit", "AWS_REGION": "sa-east-1"], home: dir.path))
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
        let credentials = dir.write("elsewhere/creds", "[ops]\naws_access_key_id = AKIDOPS\naws_secret_access_key = s\n")
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
