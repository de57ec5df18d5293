/// An AWS access key, with its session token and expiry when temporary.
import DriverSupport
public struct Credentials: Sendable, Equatable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// Seconds since the epoch; nil for long-lived keys.
    public var expiresAt: Int?
    /// Where they came from (for log lines; never the secret).
    public var source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiresAt: Int? = nil, source: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiresAt = expiresAt
        self.source = source
    }

    /// Redacted: the access key id only, as AWS's own tools print it.
    public var description: String { "\(accessKeyID) from \(source)" }
}
