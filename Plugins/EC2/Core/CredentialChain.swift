import Foundation
import Synchronization

/// Finds credentials the way AWS's own tools do, first match wins:
/// 1. static keys in the instance set's config;
/// 2. `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`);
/// 3. the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`)
///    with the configured profile (else `AWS_PROFILE`, else `default`);
/// 4. the instance role, through IMDSv2 (a session token first, then the role's keys),
///    refreshed five minutes before they expire.
/// The environment and file reader are injected, so tests need neither.
///
///     let chain = CredentialChain(config: config, environment: ProcessInfo.processInfo.environment)
///     let creds = try chain.current(transport: curl, now: now)
public final class CredentialChain: Sendable {
    public struct Settings: Sendable {
        public var staticCredentials: Credentials?
        public var profile: String?
        public var credentialsFile: String?
        public var imdsEndpoint: String
        public var useInstanceRole: Bool
    }

    let settings: Settings
    let environment: [String: String]
    let readFile: @Sendable (String) -> String?
    private let cached = Mutex<Credentials?>(nil)
    /// Renew temporary credentials this long before they expire.
    static let refreshMargin = 300

    public init(settings: Settings, environment: [String: String],
                readFile: @escaping @Sendable (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) }) {
        self.settings = settings
        self.environment = environment
        self.readFile = readFile
    }

    /// Valid credentials now, or `auth` naming every source tried.
    public func current(transport: any HTTPTransport, now: Int) throws(EC2Error) -> Credentials {
        if let c = cached.withLock({ $0 }), c.expiresAt.map({ $0 - Self.refreshMargin > now }) ?? true { return c }
        let found = try resolve(transport: transport)
        cached.withLock { $0 = found }
        return found
    }

    /// Forgets cached credentials (after an auth failure that may mean they rotated).
    public func invalidate() { cached.withLock { $0 = nil } }

    func resolve(transport: any HTTPTransport) throws(EC2Error) -> Credentials {
        if let fixed = settings.staticCredentials { return fixed }
        if let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !id.isEmpty, !secret.isEmpty {
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token, source: "environment")
        }
        let profile = settings.profile ?? environment["AWS_PROFILE"] ?? "default"
        let path = settings.credentialsFile ?? environment["AWS_SHARED_CREDENTIALS_FILE"]
            ?? environment["HOME"].map { $0 + "/.aws/credentials" }
        if let path, let text = readFile(path),
           let fromFile = SharedCredentialsFile.credentials(in: text, profile: profile, path: path) {
            return fromFile
        }
        let tried = "config keys, environment, \(path ?? "no credentials file") [\(profile)]"
        guard settings.useInstanceRole, environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() != "true" else {
            throw EC2Error(.auth, "no AWS credentials found (tried \(tried); instance role disabled)", code: "NoCredentials")
        }
        do throws(EC2Error) {
            return try InstanceRole(endpoint: settings.imdsEndpoint).credentials(transport: transport)
        } catch {
            throw EC2Error(.auth, "no AWS credentials found (tried \(tried), instance role: \(error.message))",
                           code: "NoCredentials", httpStatus: error.httpStatus)
        }
    }
}

/// The instance role's temporary keys from the metadata service, IMDSv2 only: a PUT for a
/// session token, then the role name, then the role's keys, each with the token.
struct InstanceRole {
    var endpoint: String
    static let timeoutMs = 2_000

    func credentials(transport: any HTTPTransport) throws(EC2Error) -> Credentials {
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        let tokenReply = try transport.send(HTTPRequest(method: "PUT", url: base + "/latest/api/token",
                                                         headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")],
                                                         timeoutMs: Self.timeoutMs))
        guard tokenReply.status == 200 else { throw EC2Error(.auth, "IMDSv2 token request answered HTTP \(tokenReply.status)", httpStatus: tokenReply.status) }
        let token = String(decoding: tokenReply.body, as: UTF8.self)
        let auth = [("X-aws-ec2-metadata-token", token)]
        let rolesURL = base + "/latest/meta-data/iam/security-credentials/"
        let roles = try transport.send(HTTPRequest(method: "GET", url: rolesURL, headers: auth, timeoutMs: Self.timeoutMs))
        guard roles.status == 200,
              let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init),
              !role.isEmpty else {
            throw EC2Error(.auth, "no instance role attached (HTTP \(roles.status))", httpStatus: roles.status)
        }
        let keys = try transport.send(HTTPRequest(method: "GET", url: rolesURL + role, headers: auth, timeoutMs: Self.timeoutMs))
        guard keys.status == 200 else { throw EC2Error(.auth, "role \(role): HTTP \(keys.status)", httpStatus: keys.status) }
        struct Document: Decodable {
            var Code: String?
            var AccessKeyId: String
            var SecretAccessKey: String
            var Token: String?
            var Expiration: String?
        }
        guard let doc = try? JSONDecoder().decode(Document.self, from: Data(keys.body)), doc.Code == nil || doc.Code == "Success" else {
            throw EC2Error(.auth, "role \(role): unreadable credentials document")
        }
        let expiry = doc.Expiration.flatMap { ISO8601DateFormatter().date(from: $0) }.map { Int($0.timeIntervalSince1970) }
        return Credentials(accessKeyID: doc.AccessKeyId, secretAccessKey: doc.SecretAccessKey, sessionToken: doc.Token,
                           expiresAt: expiry, source: "instance role \(role)")
    }
}
