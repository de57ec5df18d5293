import DriverSupport
import Foundation

/// The instance role's temporary keys from the metadata service, IMDSv2 only: a PUT for a
/// session token, then the role name, then the role's keys, each with the token. Never through
/// a proxy. A service that does not answer (connection refused, timeout, 5xx) is `transient`
/// — the keys may well be there a moment later; an answer that says there is no role is `auth`.
struct InstanceRole {
    var endpoint: String
    static let timeoutMs = 2_000

    func credentials(transport: any HTTPTransport) throws(DriverError) -> Credentials {
        let base = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        let tokenReply = try get(transport, method: "PUT", base + "/latest/api/token",
                                 headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")])
        guard tokenReply.status == 200 else { throw Self.failure("IMDSv2 token request", status: tokenReply.status) }
        let auth = [("X-aws-ec2-metadata-token", String(decoding: tokenReply.body, as: UTF8.self))]
        let rolesURL = base + "/latest/meta-data/iam/security-credentials/"
        let roles = try get(transport, rolesURL, headers: auth)
        guard roles.status == 200,
              let role = String(decoding: roles.body, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init),
              !role.isEmpty else {
            if roles.status >= 500 { throw Self.failure("instance role lookup", status: roles.status) }
            throw DriverError(.auth, "no instance role attached (HTTP \(roles.status))", httpStatus: roles.status)
        }
        let keys = try get(transport, rolesURL + role, headers: auth)
        guard keys.status == 200 else { throw Self.failure("role \(role)", status: keys.status) }
        return try TemporaryKeysDocument.credentials(from: keys.body, source: "instance role \(role)")
    }

    private func get(_ transport: any HTTPTransport, method: String = "GET", _ url: String,
                     headers: [(String, String)]) throws(DriverError) -> HTTPResponse {
        try transport.send(HTTPRequest(method: method, url: url, headers: headers, timeoutMs: Self.timeoutMs, direct: true))
    }

    static func failure(_ what: String, status: Int) -> DriverError {
        DriverError(status >= 500 ? .transient : .auth, "\(what) answered HTTP \(status)", httpStatus: status)
    }
}

/// The JSON document IMDS and the ECS agent both serve: `AccessKeyId`, `SecretAccessKey`,
/// `Token`, `Expiration` (and from IMDS a `Code`).
enum TemporaryKeysDocument {
    static func credentials(from body: [UInt8], source: String) throws(DriverError) -> Credentials {
        struct Document: Decodable {
            var Code: String?
            var AccessKeyId: String
            var SecretAccessKey: String
            var Token: String?
            var Expiration: String?
        }
        guard let doc = try? JSONDecoder().decode(Document.self, from: Data(body)), doc.Code == nil || doc.Code == "Success" else {
            throw DriverError(.auth, "\(source): unreadable credentials document")
        }
        return Credentials(accessKeyID: doc.AccessKeyId, secretAccessKey: doc.SecretAccessKey, sessionToken: doc.Token,
                           expiresAt: doc.Expiration.flatMap(ISO8601Time.seconds), source: source)
    }
}

/// `2026-11-29T12:00:00Z` (with or without fractional seconds) as seconds since the epoch.
enum ISO8601Time {
    static func seconds(_ text: String) -> Int? {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return (plain.date(from: text) ?? fractional.date(from: text)).map { Int($0.timeIntervalSince1970) }
    }
}
