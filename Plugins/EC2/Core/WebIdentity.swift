import DriverSupport
import Foundation

/// Keys for a role assumed with a web identity token (EKS IAM roles for service accounts):
/// `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`) are exchanged
/// with STS `AssumeRoleWithWebIdentity`, a call that is not signed: the token is the proof.
/// The token file is read on every exchange, because the kubelet rotates it.
///
///     let irsa = WebIdentity(environment: env, stsEndpoint: "https://sts.eu-west-1.amazonaws.com", readFile: read)
///     let keys = try irsa?.credentials(transport: curl, now: now)
struct WebIdentity {
    let tokenFile: String
    let roleARN: String
    let sessionName: String
    let stsEndpoint: String
    let readFile: @Sendable (String) -> String?
    static let timeoutMs = 10_000

    init?(environment: [String: String], stsEndpoint: String, readFile: @escaping @Sendable (String) -> String?) {
        guard let file = environment["AWS_WEB_IDENTITY_TOKEN_FILE"], !file.isEmpty,
              let role = environment["AWS_ROLE_ARN"], !role.isEmpty else { return nil }
        tokenFile = file
        roleARN = role
        sessionName = environment["AWS_ROLE_SESSION_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? "cloud-dispatch"
        self.stsEndpoint = stsEndpoint
        self.readFile = readFile
    }

    func credentials(transport: any HTTPTransport, now: Int) throws(DriverError) -> Credentials {
        guard let token = readFile(tokenFile)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw DriverError(.auth, "web identity: cannot read the token file \(tokenFile)", code: "NoCredentials")
        }
        var p = QueryParams(action: "AssumeRoleWithWebIdentity", version: "2011-06-15")
        p.set("RoleArn", roleARN)
        p.set("RoleSessionName", sessionName)
        p.set("WebIdentityToken", token)
        let reply = try transport.send(HTTPRequest(
            method: "POST", url: stsEndpoint, headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(p.body.utf8), timeoutMs: Self.timeoutMs))
        guard reply.status == 200 else {
            var error = EC2Client.error(from: reply, throttleRetryMs: 0, now: now)
            // STS refusing the token or the role is an auth problem; an outage or throttling is not.
            if ![.transient, .rateLimit].contains(error.errorClass) { error.errorClass = .auth }
            error.message = "web identity (\(roleARN)): " + error.message
            throw error
        }
        guard let xml = try? XMLNode.parse(Data(reply.body)), let keys = xml.descendants("Credentials").first,
              let id = keys.text("AccessKeyId"), let secret = keys.text("SecretAccessKey") else {
            throw DriverError(.auth, "web identity (\(roleARN)): unreadable AssumeRoleWithWebIdentity reply", httpStatus: reply.status)
        }
        return Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: keys.text("SessionToken"),
                           expiresAt: keys.text("Expiration").flatMap(ISO8601Time.seconds), source: "web identity \(roleARN)")
    }
}
