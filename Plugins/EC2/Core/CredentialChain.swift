import DriverSupport
import Foundation
import Synchronization

/// Finds credentials in the order of the AWS SDKs' default chain, first match wins:
/// 1. static keys in the instance set's config;
/// 2. `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`);
/// 3. a web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, EKS), through STS;
/// 4. the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`)
///    with the configured profile (else `AWS_PROFILE`, else `default`);
/// 5. the container credential endpoint (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or
///    `…_FULL_URI`, ECS);
/// 6. the instance role, through IMDSv2.
/// Temporary keys are renewed five minutes before they expire; when renewing fails, keys that
/// have not expired yet are used on. The environment and file reader are injected, so tests
/// need neither.
///
///     let chain = CredentialChain(settings: config.credentials, environment: ProcessInfo.processInfo.environment)
///     let creds = try chain.current(transport: curl, now: now)
public final class CredentialChain: Sendable {
    public struct Settings: Sendable {
        public var staticCredentials: Credentials?
        public var profile: String?
        public var credentialsFile: String?
        public var imdsEndpoint: String
        public var useInstanceRole: Bool
        /// STS, for web identities (`https://sts.<region>.amazonaws.com`).
        public var stsEndpoint: String
    }

    /// The keys in use, and whether an auth failure asked for them to be looked up again.
    private struct Held { var credentials: Credentials?; var stale = false }

    let settings: Settings
    let environment: [String: String]
    let readFile: @Sendable (String) -> String?
    private let held = Mutex(Held())
    /// Renew temporary credentials this long before they expire.
    static let refreshMargin = 300

    public init(settings: Settings, environment: [String: String],
                readFile: @escaping @Sendable (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) }) {
        self.settings = settings
        self.environment = environment
        self.readFile = readFile
    }

    /// Valid credentials now; `auth` naming every source tried when there are none, `transient`
    /// when a credential service did not answer.
    public func current(transport: any HTTPTransport, now: Int) throws(DriverError) -> Credentials {
        let known = held.withLock { $0 }
        if let c = known.credentials, !known.stale, c.expiresAt.map({ $0 - Self.refreshMargin > now }) ?? true { return c }
        do throws(DriverError) {
            let found = try resolve(transport: transport, now: now)
            held.withLock { $0 = Held(credentials: found) }
            return found
        } catch {
            // A failed renewal does not take away keys that are still good.
            if let c = known.credentials, c.expiresAt.map({ $0 > now }) ?? true { return c }
            throw error
        }
    }

    /// Look the credentials up again on the next call (after an auth failure that may mean
    /// they rotated); they stay the fallback until they expire.
    public func invalidate() { held.withLock { $0.stale = true } }

    func resolve(transport: any HTTPTransport, now: Int) throws(DriverError) -> Credentials {
        if let fixed = settings.staticCredentials { return fixed }
        if let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !id.isEmpty, !secret.isEmpty {
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token, source: "environment")
        }
        if let webIdentity = WebIdentity(environment: environment, stsEndpoint: settings.stsEndpoint, readFile: readFile) {
            return try webIdentity.credentials(transport: transport, now: now)
        }
        let profile = settings.profile ?? environment["AWS_PROFILE"] ?? "default"
        let path = settings.credentialsFile ?? environment["AWS_SHARED_CREDENTIALS_FILE"]
            ?? environment["HOME"].map { $0 + "/.aws/credentials" }
        if let path, let text = readFile(path),
           let fromFile = SharedCredentialsFile.credentials(in: text, profile: profile, path: path) {
            return fromFile
        }
        if let container = ContainerCredentials(environment: environment, readFile: readFile) {
            return try container.credentials(transport: transport)
        }
        let tried = "config keys, environment, \(path ?? "no credentials file") [\(profile)]"
        guard settings.useInstanceRole, environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() != "true" else {
            throw DriverError(.auth, "no AWS credentials found (tried \(tried); instance role disabled)", code: "NoCredentials")
        }
        do throws(DriverError) {
            return try InstanceRole(endpoint: settings.imdsEndpoint).credentials(transport: transport)
        } catch {
            if error.errorClass == .transient {
                throw DriverError(.transient, "no AWS credentials found (tried \(tried)); instance metadata service: \(error.message)",
                               code: error.code, httpStatus: error.httpStatus)
            }
            throw DriverError(.auth, "no AWS credentials found (tried \(tried), instance role: \(error.message))",
                           code: "NoCredentials", httpStatus: error.httpStatus)
        }
    }
}
