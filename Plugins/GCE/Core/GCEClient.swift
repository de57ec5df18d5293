import DriverSupport
import Foundation

/// Compute v1 REST calls for one project: bearer token, JSON in and out, errors mapped, and
/// zone operations followed until done.
public final class GCEClient: Sendable {
    public let config: GCEConfig
    public let project: String
    public let token: CachedToken
    let transport: any HTTPTransport
    let log: Logger

    public init(config: GCEConfig, project: String, token: CachedToken, transport: any HTTPTransport, log: @escaping Logger = { _, _ in }) {
        self.config = config
        self.project = project
        self.token = token
        self.transport = transport
        self.log = log
    }

    /// `path` is relative to `projects/<project>/`; `query` in the order given.
    public func call(_ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil) throws(DriverError) -> JSONValue {
        var url = config.apiRoot + "projects/\(FormEncoding.escape(project))/" + path
        if !query.isEmpty { url += "?" + query.map { "\($0)=\(FormEncoding.escape($1))" }.joined(separator: "&") }
        let what = "\(method) \(path)"
        for attempt in 0..<2 {
            var headers = [("Authorization", "Bearer \(try token.token())"), ("Accept", "application/json")]
            if body != nil { headers.append(("Content-Type", "application/json")) }
            let response = try transport.send(HTTPRequest(method: method, url: url, headers: headers, body: body?.bytes ?? [],
                                                          timeoutMs: config.common.requestTimeoutMs))
            if response.status == 401 && attempt == 0 {
                // The token may have been revoked or expired early: one fresh try.
                token.invalidate()
                log(.info, "\(what): 401, fetching a new token from \(token.source.name)")
                continue
            }
            guard (200..<300).contains(response.status) else {
                throw ErrorMapping.fromHTTP(response, what: what, throttleRetryMs: config.common.throttleRetryMs)
            }
            guard let json = JSONValue.parse(response.body), json.object != nil else {
                throw DriverError(.internal, "\(what): the answer is not a JSON object", httpStatus: response.status)
            }
            return json
        }
        throw DriverError(.auth, "\(what): 401 with a fresh token from \(token.source.name)", httpStatus: 401)
    }

    /// Follows a zone operation with `operations.wait` until it is DONE, at most
    /// `operation_timeout`; a timeout is `transient` (the operation may still finish: the
    /// host's retry with the same token finds its result). A DONE operation with errors throws.
    public func wait(_ operation: JSONValue, what: String) throws(DriverError) -> JSONValue {
        var op = operation
        let deadline = Date().addingTimeInterval(Double(config.operationTimeoutMs) / 1000)
        var polls = 0
        while op["status"].string != "DONE" {
            guard let name = op["name"].string, let zone = op["zone"].string.map(Self.lastComponent) else {
                throw DriverError(.internal, "\(what): an operation without name or zone")
            }
            guard Date() < deadline, polls < 1000 else {
                throw DriverError(.transient, "\(what): operation \(name) still \(op["status"].string ?? "?") after \(config.operationTimeoutMs / 1000) s")
            }
            polls += 1
            op = try call("POST", "zones/\(zone)/operations/\(name)/wait")
        }
        if let error = ErrorMapping.fromOperation(op, what: what, throttleRetryMs: config.common.throttleRetryMs) { throw error }
        return op
    }

    /// `…/zones/us-central1-a` → `us-central1-a`.
    public static func lastComponent(_ url: String) -> String { String(url.split(separator: "/").last ?? "") }
}
