import DriverSupport
import Foundation

/// A service-account key (the JSON file IAM hands out): an RS256-signed JWT exchanged at the
/// key's `token_uri` for an access token (RFC 7523, as google-auth does it).
public struct ServiceAccountKey: Sendable {
    public var clientEmail: String
    public var privateKey: String
    public var privateKeyID: String?
    public var tokenURI: String
    public var projectID: String?

    public static let defaultTokenURI = "https://oauth2.googleapis.com/token"

    /// Parses the key file's JSON; `file` names it in errors.
    public init(json text: [UInt8], file: String) throws(DriverError) {
        guard case .object(let o)? = JSONValue.parse(text) else { throw .invalid("\(file): not a JSON object") }
        guard o["type"]?.string == "service_account" else {
            throw .invalid("\(file): type is \(o["type"]?.string.map { "\"\($0)\"" } ?? "missing"), expected \"service_account\"")
        }
        guard let email = o["client_email"]?.string, !email.isEmpty else { throw .invalid("\(file): client_email is missing") }
        guard let key = o["private_key"]?.string, key.contains("PRIVATE KEY") else { throw .invalid("\(file): private_key is missing") }
        clientEmail = email
        privateKey = key
        privateKeyID = o["private_key_id"]?.string
        tokenURI = o["token_uri"]?.string ?? Self.defaultTokenURI
        projectID = o["project_id"]?.string
        guard tokenURI.hasPrefix("https://") || tokenURI.hasPrefix("http://") else { throw .invalid("\(file): token_uri is not an http(s) URL") }
    }

    /// The signed assertion: header `{alg, typ, kid}`, claims `{iss, scope, aud, iat, exp}`.
    /// `aud` is the token URI the assertion is sent to (Google's documented audience is its
    /// default token URI, so the two agree against Google).
    public func assertion(scope: String, now: Int, lifetime: Int = 3600) throws(DriverError) -> String {
        var header: [String: JSONValue] = ["alg": .string("RS256"), "typ": .string("JWT")]
        if let privateKeyID { header["kid"] = .string(privateKeyID) }
        let claims: [String: JSONValue] = [
            "iss": .string(clientEmail), "scope": .string(scope), "aud": .string(tokenURI),
            "iat": .number(Double(now)), "exp": .number(Double(now + lifetime)),
        ]
        let signingInput = Crypto.base64URL(JSONValue.object(header).bytes) + "." + Crypto.base64URL(JSONValue.object(claims).bytes)
        let signature = try Crypto.rs256(pem: privateKey, message: Array(signingInput.utf8))
        return signingInput + "." + Crypto.base64URL(signature)
    }
}

/// Tokens for a service-account key.
public struct ServiceAccountTokenSource: TokenSource {
    public let key: ServiceAccountKey
    public let scope: String
    let transport: any HTTPTransport
    let clock: @Sendable () -> Int

    public init(key: ServiceAccountKey, scope: String, transport: any HTTPTransport,
                clock: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) {
        self.key = key
        self.scope = scope
        self.transport = transport
        self.clock = clock
    }

    public var name: String { "service account \(key.clientEmail)" }

    public func fetch() throws(DriverError) -> (token: String, expiresIn: Int) {
        let jwt = try key.assertion(scope: scope, now: clock())
        let form = "grant_type=" + FormEncoding.escape("urn:ietf:params:oauth:grant-type:jwt-bearer") + "&assertion=" + jwt
        let response = try transport.send(HTTPRequest(method: "POST", url: key.tokenURI,
                                                      headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                      body: Array(form.utf8)))
        return try TokenReply.parse(response, from: "token endpoint \(CurlTransport.redacted(key.tokenURI)) for \(key.clientEmail)")
    }
}

/// Tokens for an `authorized_user` file (what `gcloud auth application-default login` writes).
public struct AuthorizedUserTokenSource: TokenSource {
    let clientID: String, clientSecret: String, refreshToken: String, tokenURI: String
    let transport: any HTTPTransport

    public init(json text: [UInt8], file: String, transport: any HTTPTransport) throws(DriverError) {
        guard case .object(let o)? = JSONValue.parse(text) else { throw .invalid("\(file): not a JSON object") }
        guard let id = o["client_id"]?.string, let secret = o["client_secret"]?.string, let refresh = o["refresh_token"]?.string else {
            throw .invalid("\(file): an authorized_user file needs client_id, client_secret and refresh_token")
        }
        clientID = id
        clientSecret = secret
        refreshToken = refresh
        tokenURI = o["token_uri"]?.string ?? ServiceAccountKey.defaultTokenURI
        self.transport = transport
    }

    public var name: String { "authorized user (application default credentials)" }

    public func fetch() throws(DriverError) -> (token: String, expiresIn: Int) {
        let form = [("grant_type", "refresh_token"), ("client_id", clientID), ("client_secret", clientSecret),
                    ("refresh_token", refreshToken)].map { "\($0)=\(FormEncoding.escape($1))" }.joined(separator: "&")
        let response = try transport.send(HTTPRequest(method: "POST", url: tokenURI,
                                                      headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                      body: Array(form.utf8)))
        return try TokenReply.parse(response, from: "token endpoint \(CurlTransport.redacted(tokenURI))")
    }
}

/// The metadata server's token for the VM's own service account (`Metadata-Flavor: Google`),
/// never through a proxy. No answer is `transient` (the server may be restarting), not `auth`.
public struct MetadataTokenSource: TokenSource {
    /// `host[:port]`, e.g. `metadata.google.internal` or `127.0.0.1:8089`.
    public let host: String
    let transport: any HTTPTransport

    public init(host: String, transport: any HTTPTransport) {
        self.host = host
        self.transport = transport
    }

    public var name: String { "metadata server \(host)" }

    public func fetch() throws(DriverError) -> (token: String, expiresIn: Int) {
        let url = "http://\(host)/computeMetadata/v1/instance/service-accounts/default/token"
        let response: HTTPResponse
        do throws(DriverError) {
            response = try transport.send(HTTPRequest(method: "GET", url: url, headers: [("Metadata-Flavor", "Google")],
                                                      timeoutMs: 5_000, direct: true))
        } catch {
            throw DriverError(.transient, "metadata server \(host) did not answer (not on GCE? set credentials_file): \(error.message)",
                           code: error.code)
        }
        if response.status == 404 {
            throw DriverError(.auth, "metadata server \(host): this VM has no service account", code: "notFound", httpStatus: 404)
        }
        return try TokenReply.parse(response, from: "metadata server \(host)")
    }
}

/// Percent-encoding for form bodies and query strings (RFC 3986 unreserved kept).
public enum FormEncoding {
    static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    public static func escape(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            if unreserved.contains(byte) { out.unicodeScalars.append(UnicodeScalar(byte)) } else { out += String(format: "%%%02X", byte) }
        }
        return out
    }
}
