import DriverSupport
import Foundation
import Synchronization


/// Calls the EC2 Query API: form-encodes the parameters, signs with SigV4, sends, and turns
/// EC2's XML error envelope into a `DriverError` with the provider's code and message kept.
/// No retries here: the host owns retry policy and back-off.
///
///     let client = EC2Client(config: config, credentials: chain, transport: curl)
///     let xml = try client.call(QueryParams(action: "DescribeInstances"))
public final class EC2Client: Sendable {
    public let endpoint: String
    let host: String
    let path: String
    let signer: SigV4Signer
    public let credentials: CredentialChain
    let transport: any HTTPTransport
    let timeoutMs: Int
    let throttleRetryMs: Int
    let clock: @Sendable () -> Int
    let log: Logger
    /// Seconds to add to `clock` to get EC2's time, learnt from its `Date` header.
    let skew = Mutex<Int>(0)

    public init(config: EC2Config, credentials: CredentialChain, transport: any HTTPTransport,
                service: String = "ec2", endpoint: String? = nil,
                clock: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }, log: @escaping Logger = { _, _ in }) {
        let url = endpoint ?? config.endpoint
        self.endpoint = url
        let parts = URLComponents(string: url)
        let port = parts?.port.map { ":\($0)" } ?? ""
        host = (parts?.host ?? "") + port
        path = (parts?.path).flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        signer = SigV4Signer(service: service, region: config.region)
        self.credentials = credentials
        self.transport = transport
        timeoutMs = config.common.requestTimeoutMs
        throttleRetryMs = config.common.throttleRetryMs
        self.clock = clock
        self.log = log
    }

    /// The signed HTTP request for `params` (exposed so tests can check shapes and signing).
    public func request(_ params: QueryParams, credentials creds: Credentials) -> HTTPRequest {
        let body = Array(params.body.utf8)
        let contentType = ("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        let signed = signer.sign(method: "POST", host: host, path: path, query: [], headers: [contentType],
                                 body: body, credentials: creds, time: now())
        // A launch is never sent twice without the host knowing: look-alikes (moto) ignore
        // ClientToken, and a lost answer is the host's to handle (its create intents).
        return HTTPRequest(method: "POST", url: endpoint, headers: [("Host", host), contentType] + signed,
                           body: body, timeoutMs: timeoutMs, freshConnection: params.action == "RunInstances")
    }

    /// The local clock corrected by what EC2's `Date` header taught.
    func now() -> Int { clock() + skew.withLock { $0 } }

    public func call(_ params: QueryParams) throws(DriverError) -> XMLNode {
        let creds = try credentials.current(transport: transport, now: clock())
        var response = try send(params, credentials: creds)
        if !(200...299).contains(response.status), let server = ClockSkew.serverTime(of: response, now: now()) {
            // Set, not added to: calls refused at the same moment on other threads agree.
            let offset = server - clock()
            skew.withLock { $0 = offset }
            log(.warn, "EC2's clock is \(offset) s ahead of this machine's; signing with EC2's time from now on")
            response = try send(params, credentials: creds)
            // Still refused for the time: a clock that moves, or a Date that misleads; not the keys' fault.
            if !(200...299).contains(response.status), ClockSkew.serverTime(of: response, now: now()) != nil {
                var error = Self.error(from: response, throttleRetryMs: throttleRetryMs, now: now())
                error.errorClass = .transient
                throw error
            }
        }
        guard (200...299).contains(response.status) else {
            let error = Self.error(from: response, throttleRetryMs: throttleRetryMs, now: now())
            if error.errorClass == .auth { credentials.invalidate() }
            throw error
        }
        do throws(XMLNode.ParseError) {
            return try XMLNode.parse(Data(response.body))
        } catch {
            throw DriverError(.internal, "\(params.action): unreadable reply: \(error.description)", httpStatus: response.status)
        }
    }

    func send(_ params: QueryParams, credentials creds: Credentials) throws(DriverError) -> HTTPResponse {
        let start = ContinuousClock.now
        let response = try transport.send(request(params, credentials: creds))
        log(.trace, "\(params.action) HTTP \(response.status) in \(ContinuousClock.now - start)")
        return response
    }

    /// EC2's error envelope (`Response/Errors/Error`, or `ErrorResponse/Error` from the auth
    /// layer) to an error record; a body that is not XML keeps its first line as the message.
    /// `now` (EC2's time as far as known) dates a `Retry-After` given as an HTTP date, unless
    /// the reply's own `Date` header does.
    public static func error(from response: HTTPResponse, throttleRetryMs: Int, now: Int) -> DriverError {
        var code = "", message = ""
        if let xml = try? XMLNode.parse(Data(response.body)), let first = xml.descendants("Error").first {
            code = first.text("Code") ?? ""
            message = first.text("Message") ?? ""
        } else {
            let text = String(decoding: response.body.prefix(200), as: UTF8.self)
            message = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        let errorClass = ErrorMapping.classify(code: code, httpStatus: response.status)
        var retry = 0
        if errorClass == .rateLimit {
            retry = RetryAfter.milliseconds(response.headers["retry-after"], date: response.headers["date"], now: now, fallbackMs: throttleRetryMs)
        }
        if message.isEmpty { message = "HTTP \(response.status)" }
        return DriverError(errorClass, message, code: code, httpStatus: response.status, retryAfterMs: retry)
    }
}
