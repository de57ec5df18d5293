import DriverSupport
import Foundation

/// Keys from the ECS (or EKS Pod Identity) container credential endpoint:
/// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on the ECS agent at 169.254.170.2), else
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with the `Authorization` header from
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (re-read each time: it is rotated) or
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`. Never through a proxy. As the AWS SDKs do, a full
/// URI over plain http must name this machine or the container agents' link-local addresses.
///
///     let ecs = ContainerCredentials(environment: env, readFile: read)   // nil when not in a container
///     let keys = try ecs?.credentials(transport: curl)
struct ContainerCredentials {
    let url: String
    let environment: [String: String]
    let readFile: @Sendable (String) -> String?
    static let ecsAgent = "http://169.254.170.2"
    static let plainHTTPHosts: Set<String> = ["127.0.0.1", "localhost", "::1", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"]
    static let timeoutMs = 2_000

    init?(environment: [String: String], readFile: @escaping @Sendable (String) -> String?) {
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            url = Self.ecsAgent + (relative.hasPrefix("/") ? "" : "/") + relative
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            url = full
        } else {
            return nil
        }
        self.environment = environment
        self.readFile = readFile
    }

    func credentials(transport: any HTTPTransport) throws(DriverError) -> Credentials {
        guard let parts = URLComponents(string: url), let host = parts.host?.trimmingCharacters(in: ["[", "]"]),
              parts.scheme == "https" || (parts.scheme == "http" && (Self.plainHTTPHosts.contains(host) || host.hasPrefix("127."))) else {
            throw DriverError(.auth, "container credentials: \(CurlTransport.redacted(url)) is not an allowed endpoint (https, or http to a local or container-agent address)")
        }
        var headers: [(String, String)] = []
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !file.isEmpty {
            guard let token = readFile(file)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
                throw DriverError(.auth, "container credentials: cannot read the authorization token file \(file)")
            }
            headers.append(("Authorization", token))
        } else if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !token.isEmpty {
            headers.append(("Authorization", token))
        }
        let reply = try transport.send(HTTPRequest(method: "GET", url: url, headers: headers, timeoutMs: Self.timeoutMs, direct: true))
        guard reply.status == 200 else { throw InstanceRole.failure("container credentials endpoint", status: reply.status) }
        return try TemporaryKeysDocument.credentials(from: reply.body, source: "container credentials")
    }
}
