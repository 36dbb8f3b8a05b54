public import Foundation

/// An access key, its secret and, for temporary credentials, the session token. Printing it shows the
/// key id's first four characters and where it came from, never the secret or the token.
public struct AWSCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials run out (nil: they do not).
    public var expiration: Date?
    /// Where they were found: `environment`, `shared credentials file (profile p)`, … (for messages).
    public var source: String

    public init(
        accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil,
        source: String
    ) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }

    public var description: String { "credentials \(accessKeyID.prefix(4))… from \(source)" }
    public var debugDescription: String { description }
}
