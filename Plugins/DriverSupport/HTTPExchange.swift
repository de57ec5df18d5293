/// One HTTP exchange, as a driver's cloud client and credential sources see it. The production
/// transport is libcurl (`CurlTransport`); tests put a recorder or a scripted fake in its place
/// to check request shapes without a network.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var timeoutMs: Int
    /// Never through a proxy, whatever `http_proxy` says: link-local services (instance
    /// metadata, the ECS agent) answer only on this machine's own network.
    public var direct: Bool
    /// Sent on a new connection. On a reused one, libcurl sends a request a second time, by
    /// itself, when the connection closes before any answer: harmless for a read, a second
    /// launch for a create the cloud does not deduplicate, and a send the host never counted.
    public var freshConnection: Bool

    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8] = [], timeoutMs: Int = 30_000,
                direct: Bool = false, freshConnection: Bool = false) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMs = timeoutMs
        self.direct = direct
        self.freshConnection = freshConnection
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lowercased; the last value wins.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Sends a request. Failures to get any answer (refused, timed out, reset, TLS) throw `transient`.
/// [thread-safe] [may-block]
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) throws(DriverError) -> HTTPResponse
}
