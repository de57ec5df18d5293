import DriverSupport
import Foundation
import Synchronization

/// An ARM access token and when it stops working (epoch seconds).
public struct AccessToken: Sendable, Equatable {
    public var value: String
    public var expiresAt: Int
}

/// Where tokens come from: a service principal's client secret against the authority's v2.0
/// token endpoint, or the VM's managed identity through IMDS. Tokens are kept until five
/// minutes before they expire; a failed renewal keeps using a token that still works.
///
///     let tokens = TokenSource(auth: config.auth, transport: curl)
///     let bearer = try tokens.current(now: now)
public final class TokenSource: Sendable {
    public struct Settings: Sendable {
        public var tenantID: String?
        public var clientID: String?
        public var clientSecret: String?
        /// A PEM file with the service principal's private key and certificate.
        public var clientCertificatePath: String?
        public var managedIdentityClientID: String?
        public var authorityHost = "https://login.microsoftonline.com"
        public var imdsEndpoint = "http://169.254.169.254"
        /// The ARM resource the token is for (`https://management.azure.com/`).
        public var audience = "https://management.azure.com/"
        public var timeoutMs = 30_000

        /// A service principal (secret or certificate) rather than the managed identity.
        public var usesServicePrincipal: Bool { clientSecret != nil || clientCertificatePath != nil }
    }

    /// Renew this long before expiry.
    public static let renewBeforeSeconds = 300
    static let imdsTimeoutMs = 5_000

    let settings: Settings
    let transport: any HTTPTransport
    let log: Logger
    private let cached = Mutex<AccessToken?>(nil)

    public init(settings: Settings, transport: any HTTPTransport, log: @escaping Logger = { _, _ in }) {
        self.settings = settings
        self.transport = transport
        self.log = log
    }

    /// A token good for at least a few more minutes, fetched when needed.
    public func current(now: Int) throws(DriverError) -> String {
        let held = cached.withLock { $0 }
        if let held, now < held.expiresAt - Self.renewBeforeSeconds { return held.value }
        do throws(DriverError) {
            let fresh = try fetch(now: now)
            cached.withLock { $0 = fresh }
            return fresh.value
        } catch {
            // A renewal that failed does not take away a token that still works.
            if let held, now < held.expiresAt - 30, error.errorClass != .auth {
                log(.warn, "token renewal failed (\(error.description)); using the current token until it expires")
                return held.value
            }
            throw error
        }
    }

    /// Forget the token (ARM refused it): the next call fetches a new one.
    public func invalidate() { cached.withLock { $0 = nil } }

    func fetch(now: Int) throws(DriverError) -> AccessToken {
        settings.usesServicePrincipal ? try servicePrincipal(now: now) : try managedIdentity(now: now)
    }

    /// `POST {authority}/{tenant}/oauth2/v2.0/token`, grant type client_credentials, with the
    /// client secret or a client assertion signed with the certificate's key.
    func servicePrincipal(now: Int) throws(DriverError) -> AccessToken {
        guard let tenant = settings.tenantID, let client = settings.clientID else {
            throw DriverError(.auth, "service principal authentication needs tenant_id and client_id", code: "NoCredentials")
        }
        let scope = settings.audience.hasSuffix("/") ? settings.audience + ".default" : settings.audience + "/.default"
        let url = trimmed(settings.authorityHost) + "/" + FormEncoding.escape(tenant) + "/oauth2/v2.0/token"
        var fields = [("grant_type", "client_credentials"), ("client_id", client), ("scope", scope)]
        if let secret = settings.clientSecret {
            fields.append(("client_secret", secret))
        } else if let path = settings.clientCertificatePath {
            fields.append(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
            fields.append(("client_assertion", try ClientCertificate.assertion(pemPath: path, clientID: client, audience: url, now: now)))
        }
        let form = fields.map { "\($0.0)=\(FormEncoding.escape($0.1))" }.joined(separator: "&")
        let response = try transport.send(HTTPRequest(method: "POST", url: url,
                                                      headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                                                      body: Array(form.utf8), timeoutMs: settings.timeoutMs))
        return try Self.token(from: response, source: "authority \(trimmed(settings.authorityHost)) (client \(client))", now: now)
    }

    /// `GET {imds}/metadata/identity/oauth2/token` with `Metadata: true`, never through a proxy.
    /// No answer at all is `transient` (IMDS may come back); an answer that refuses is `auth`.
    func managedIdentity(now: Int) throws(DriverError) -> AccessToken {
        var url = trimmed(settings.imdsEndpoint) + "/metadata/identity/oauth2/token?api-version=2018-02-01&resource="
            + FormEncoding.escape(settings.audience)
        if let id = settings.managedIdentityClientID { url += "&client_id=" + FormEncoding.escape(id) }
        let response: HTTPResponse
        do throws(DriverError) {
            response = try transport.send(HTTPRequest(method: "GET", url: url, headers: [("Metadata", "true")],
                                                      timeoutMs: Self.imdsTimeoutMs, direct: true))
        } catch {
            throw DriverError(.transient, "managed identity: IMDS at \(trimmed(settings.imdsEndpoint)) did not answer: \(error.message)",
                             code: "IMDSUnavailable")
        }
        if response.status == 429 || response.status >= 500 || response.status == 404 && response.body.isEmpty {
            throw DriverError(response.status == 429 ? .rateLimit : .transient, "managed identity: IMDS answered HTTP \(response.status)",
                             code: "IMDSUnavailable", httpStatus: response.status,
                             retryAfterMs: response.status == 429 ? 1000 : 0)
        }
        return try Self.token(from: response, source: "managed identity", now: now)
    }

    /// The token endpoints' reply: `access_token` and `expires_in` (a number from the v2.0
    /// endpoint, a string from IMDS), or an OAuth error (`error`, `error_description`).
    static func token(from response: HTTPResponse, source: String, now: Int) throws(DriverError) -> AccessToken {
        let doc = JSONValue.parse(Data(response.body)) ?? .null
        guard response.status == 200 else {
            let code = doc["error"].string ?? ""
            let description = doc["error_description"].string.map { String($0.prefix { !$0.isNewline }) } ?? "HTTP \(response.status)"
            let errorClass: ErrorClass = response.status == 429 ? .rateLimit : response.status >= 500 ? .transient : .auth
            throw DriverError(errorClass, "\(source): \(description)", code: code, httpStatus: response.status,
                             retryAfterMs: errorClass == .rateLimit ? RetryAfter.milliseconds(response.headers["retry-after"], date: nil, now: now, fallbackMs: 5000) : 0)
        }
        guard let value = doc["access_token"].string, !value.isEmpty else {
            throw DriverError(.auth, "\(source): reply without access_token", httpStatus: response.status)
        }
        let expiresIn = doc["expires_in"].number ?? doc["expires_in"].string.flatMap(Double.init)
        let expiresOn = doc["expires_on"].number ?? doc["expires_on"].string.flatMap(Double.init)
        let at: Int
        if let expiresIn, expiresIn.isFinite, expiresIn > 0, expiresIn < 1e7 { at = now + Int(expiresIn) }
        else if let expiresOn, expiresOn.isFinite, expiresOn > Double(now), expiresOn < 1e11 { at = Int(expiresOn) }
        else { at = now + 600 }  // unknown lifetime: ask again soon rather than hold a dead token
        return AccessToken(value: value, expiresAt: at)
    }

    private func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
}

/// `application/x-www-form-urlencoded` and URL query escaping: unreserved characters stay.
public enum FormEncoding {
    public static func escape(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
