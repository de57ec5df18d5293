import DriverSupport
import Foundation

/// One ARM answer: status, headers, and the body as JSON (`.null` when empty).
public struct ARMResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var json: JSONValue
}

/// How a long-running operation ended within its bound.
public enum OperationOutcome: Sendable, Equatable {
    case succeeded
    /// Still running when the bound ran out; the resource exists and carries on.
    case pending
}

/// Calls Azure Resource Manager: bearer token, fixed api-versions, CloudError bodies turned
/// into `DriverError`s with ARM's code and message kept, long-running operations followed
/// through `Azure-AsyncOperation` or `Location` with bounded polling, and `nextLink` paging
/// that never answers a partial list. No retries of its own (the host owns back-off), except
/// one with a fresh token when ARM calls the token expired.
///
///     let arm = ARMClient(config: config, tokens: tokens, transport: curl)
///     let vm = try arm.call("GET", arm.resourcePath(.virtualMachine, "vm1"), apiVersion: APIVersions.compute)
public final class ARMClient: Sendable {
    let config: AzureConfig
    let tokens: TokenSource
    let transport: any HTTPTransport
    let clock: @Sendable () -> Int
    /// Waits that many milliseconds (tests pass one that does not sleep).
    let sleep: @Sendable (Int) -> Void
    let log: Logger

    public init(config: AzureConfig, tokens: TokenSource, transport: any HTTPTransport,
                clock: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) },
                sleep: @escaping @Sendable (Int) -> Void = { ms in if ms > 0 { usleep(UInt32(min(ms, 60_000)) * 1000) } },
                log: @escaping Logger = { _, _ in }) {
        self.config = config
        self.tokens = tokens
        self.transport = transport
        self.clock = clock
        self.sleep = sleep
        self.log = log
    }

    /// `/subscriptions/{s}/resourceGroups/{rg}/providers/{provider}/{type}[/{name}]`.
    public func groupPath(_ kind: ResourceKind, _ name: String? = nil) -> String {
        "/subscriptions/\(config.subscriptionID)/resourceGroups/\(config.resourceGroup)/providers/\(kind.provider)/\(kind.type)"
            + (name.map { "/" + $0 } ?? "")
    }

    public func url(_ pathOrURL: String, apiVersion: String?, query: [(String, String)] = []) -> String {
        if pathOrURL.hasPrefix("https://") || pathOrURL.hasPrefix("http://") { return pathOrURL }
        var params = apiVersion.map { [("api-version", $0)] } ?? []
        params += query
        let q = params.map { "\($0.0)=\(FormEncoding.escape($0.1))" }.joined(separator: "&")
        return config.armEndpoint + pathOrURL + (q.isEmpty ? "" : "?" + q)
    }

    /// One request; a non-2xx answer throws. `body` is sent as JSON.
    @discardableResult
    public func call(_ method: String, _ pathOrURL: String, apiVersion: String?, query: [(String, String)] = [],
                     body: JSONValue? = nil, headers extra: [(String, String)] = []) throws(DriverError) -> ARMResponse {
        let target = url(pathOrURL, apiVersion: apiVersion, query: query)
        guard target.hasPrefix(config.armEndpoint + "/") else {
            // A nextLink or operation URL elsewhere would get our bearer token: refuse.
            throw DriverError(.internal, "ARM pointed to \(CurlTransport.redacted(target)), outside \(config.armEndpoint)")
        }
        var response = try send(method, target, body: body, headers: extra)
        if response.status == 401 {
            // An expired or revoked token: one more try with a fresh one.
            tokens.invalidate()
            response = try send(method, target, body: body, headers: extra)
        }
        let json = JSONValue.parse(Data(response.body)) ?? .null
        guard (200...299).contains(response.status) else {
            let error = Self.error(status: response.status, headers: response.headers, json: json, body: response.body,
                                   now: clock(), throttleRetryMs: config.common.throttleRetryMs)
            throw error
        }
        return ARMResponse(status: response.status, headers: response.headers, json: json)
    }

    private func send(_ method: String, _ url: String, body: JSONValue?, headers extra: [(String, String)]) throws(DriverError) -> HTTPResponse {
        let token = try tokens.current(now: clock())
        var headers = [("Authorization", "Bearer " + token), ("Accept", "application/json")] + extra
        var bytes: [UInt8] = []
        if let body {
            headers.append(("Content-Type", "application/json"))
            bytes = Array(body.data)
        }
        let start = ContinuousClock.now
        let response = try transport.send(HTTPRequest(method: method, url: url, headers: headers, body: bytes,
                                                      timeoutMs: config.common.requestTimeoutMs))
        log(.trace, "\(method) \(CurlTransport.redacted(url)) HTTP \(response.status) in \(ContinuousClock.now - start)")
        return response
    }

    /// A CloudError body (`{"error": {"code", "message", "details"}}`) to an error record; a
    /// body that is not one keeps its first line. A detail's code wins over a generic outer
    /// one (`BadRequest` wrapping `InvalidParameter`).
    public static func error(status: Int, headers: [String: String], json: JSONValue, body: [UInt8], now: Int,
                             throttleRetryMs: Int) -> DriverError {
        var code = json["error"]["code"].string ?? json["code"].string ?? ""
        var message = json["error"]["message"].string ?? json["message"].string ?? ""
        if ["", "BadRequest", "Conflict", "DeploymentFailed"].contains(code),
           let detail = json["error"]["details"].array?.first, let inner = detail["code"].string {
            code = inner
            message = detail["message"].string ?? message
        }
        if message.isEmpty {
            let text = String(decoding: body.prefix(200), as: UTF8.self)
            message = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "HTTP \(status)"
        }
        return classified(code: code, message: message, status: status, headers: headers, now: now, throttleRetryMs: throttleRetryMs)
    }

    static func classified(code: String, message: String, status: Int, headers: [String: String], now: Int,
                           throttleRetryMs: Int) -> DriverError {
        let errorClass = ErrorMapping.classify(code: code, message: message, httpStatus: status)
        let retry = errorClass == .rateLimit
            ? RetryAfter.milliseconds(headers["retry-after"], date: headers["date"], now: now, fallbackMs: throttleRetryMs) : 0
        return DriverError(errorClass, message.isEmpty ? "HTTP \(status)" : message, code: code, httpStatus: status, retryAfterMs: retry)
    }

    // MARK: long-running operations

    /// Follows the operation an accepted PUT/PATCH/DELETE started, until it ends or `boundSeconds`
    /// pass. A failed or cancelled operation throws its error (classified as a synchronous one).
    public func follow(_ accepted: ARMResponse, boundSeconds: Int) throws(DriverError) -> OperationOutcome {
        let asyncURL = accepted.headers["azure-asyncoperation"]
        let location = accepted.headers["location"]
        guard asyncURL != nil || (accepted.status == 202 && location != nil) else {
            // No operation to follow: done, unless the body says it is still provisioning.
            return .succeeded
        }
        let deadline = clock() + boundSeconds
        var last = accepted
        for _ in 0..<config.maxPolls {
            let waitMs = pollDelayMs(last.headers)
            if clock() + (waitMs + 999) / 1000 > deadline { return .pending }
            sleep(waitMs)
            if let asyncURL {
                last = try call("GET", asyncURL, apiVersion: nil)
                switch last.json["status"].string ?? "" {
                case "Succeeded": return .succeeded
                case "Failed", "Canceled", "Cancelled":
                    let e = last.json["error"]
                    throw Self.classified(code: e["code"].string ?? "OperationFailed",
                                          message: e["message"].string ?? "the operation ended \(last.json["status"].string ?? "")",
                                          status: 200, headers: [:], now: clock(), throttleRetryMs: config.common.throttleRetryMs)
                default: continue  // InProgress, or anything ARM adds later
                }
            } else if let location {
                last = try call("GET", location, apiVersion: nil)
                if last.status != 202 { return .succeeded }
            }
        }
        return .pending
    }

    /// ARM's `Retry-After` on the operation, kept between the configured floor and 10 s.
    func pollDelayMs(_ headers: [String: String]) -> Int {
        let hinted = RetryAfter.milliseconds(headers["retry-after"], date: headers["date"], now: clock(), fallbackMs: config.pollIntervalMs)
        return min(10_000, max(config.pollIntervalMs, hinted))
    }

    // MARK: paging

    /// Every item of a list, following `nextLink` (`Paging`).
    public func list(_ path: String, apiVersion: String, query: [(String, String)] = []) throws(DriverError) -> [JSONValue] {
        try Paging.all("listing \(path)", token: "nextLink", maxPages: config.common.maxPages) { link throws(DriverError) in
            let page = try call("GET", link ?? url(path, apiVersion: apiVersion, query: query), apiVersion: nil)
            return (page.json["value"].array ?? [], page.json["nextLink"].string)
        }
    }
}

/// The ARM resource kinds this driver touches, with their api-versions (azure-mgmt-compute
/// 39.0.0 and azure-mgmt-network 33.1.0 defaults; docs/drivers/azure.md).
public enum ResourceKind: Sendable {
    case virtualMachine, disk, networkInterface, publicIPAddress

    var provider: String {
        switch self {
        case .virtualMachine, .disk: "Microsoft.Compute"
        case .networkInterface, .publicIPAddress: "Microsoft.Network"
        }
    }

    var type: String {
        switch self {
        case .virtualMachine: "virtualMachines"
        case .disk: "disks"
        case .networkInterface: "networkInterfaces"
        case .publicIPAddress: "publicIPAddresses"
        }
    }

    public var apiVersion: String {
        switch self {
        case .virtualMachine: APIVersions.virtualMachines
        case .disk: APIVersions.disks
        case .networkInterface, .publicIPAddress: APIVersions.network
        }
    }
}

public enum APIVersions {
    public static let virtualMachines = "2026-04-01"
    public static let disks = "2026-03-02"
    public static let resourceSkus = "2021-07-01"
    public static let network = "2026-03-01"
}
