/// One HTTP exchange, as the ARM client and the token sources see it. The production
/// transport is libcurl (`CurlTransport`); tests put a scripted fake in its place.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var timeoutMs: Int
    /// Never through a proxy (IMDS answers only on the VM's own link-local network).
    public var direct: Bool

    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8] = [], timeoutMs: Int = 30_000,
                direct: Bool = false) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMs = timeoutMs
        self.direct = direct
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

/// Sends a request. Failures to get any answer (refused, timed out, TLS) throw `transient`.
/// [thread-safe] [may-block]
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) throws(AzureError) -> HTTPResponse
}
