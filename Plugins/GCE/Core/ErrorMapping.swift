import DriverSupport
import Foundation

/// Compute Engine errors to ABI classes: the one table the host's policy depends on. Google
/// reports an error in two layers: an HTTP error (`{"error": {"code", "message", "errors":
/// [{"reason", "message"}]}}`) and an accepted operation that ends with `error.errors[].code`
/// (capacity and quota usually arrive this way). Both go through `classify`.
///
///     ErrorMapping.classify(code: "ZONE_RESOURCE_POOL_EXHAUSTED", httpStatus: 0, message: "")  // .capacityType
public enum ErrorMapping {
    static let byCode: [String: ErrorClass] = [
        // HTTP error reasons
        "quotaExceeded": .quota,
        "rateLimitExceeded": .rateLimit,
        "userRateLimitExceeded": .rateLimit,
        "dailyLimitExceeded": .quota,
        "authError": .auth,
        "unauthorized": .auth,
        "forbidden": .auth,
        "insufficientPermissions": .auth,
        "accessNotConfigured": .auth,
        "accountDisabled": .auth,
        "notFound": .notFound,
        "invalid": .invalid,
        "invalidParameter": .invalid,
        "badRequest": .invalid,
        "required": .invalid,
        "invalidArgument": .invalid,
        "alreadyExists": .invalid,
        "conditionNotMet": .invalid,
        "resourceNotReady": .transient,
        "backendError": .transient,
        "internalError": .transient,
        "serviceUnavailable": .transient,
        "resourceInUseByAnotherResource": .transient,
        // operation error codes
        "QUOTA_EXCEEDED": .quota,
        "ZONE_RESOURCE_POOL_EXHAUSTED": .capacityType,
        "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS": .capacityType,
        "RESOURCE_POOL_EXHAUSTED": .capacityType,
        "RESOURCE_NOT_FOUND": .invalid,
        "RESOURCE_ALREADY_EXISTS": .invalid,
        "RESOURCE_NOT_READY": .transient,
        "INVALID_FIELD_VALUE": .invalid,
        "INVALID_USAGE": .invalid,
        "BAD_REQUEST": .invalid,
        "PERMISSION_DENIED": .auth,
        "UNAUTHENTICATED": .auth,
        "RATE_LIMIT_EXCEEDED": .rateLimit,
        "INTERNAL_ERROR": .transient,
        "UNAVAILABLE": .transient,
    ]

    public static func classify(code: String, httpStatus: Int, message: String) -> ErrorClass {
        if message.lowercased().contains("resource pool exhausted") || message.contains("does not have enough resources") {
            return .capacityType
        }
        if let known = byCode[code] { return known }
        if code.hasPrefix("QUOTA") { return .quota }
        if code.hasPrefix("INVALID") { return .invalid }
        switch httpStatus {
        case 401: return .auth
        case 403: return .auth
        case 404: return .notFound
        case 429: return .rateLimit
        case 400, 409, 412, 413: return .invalid
        case 500...599: return .transient
        default: return .internal
        }
    }

    /// An HTTP error answer. `Retry-After` (seconds or an HTTP date) becomes the retry hint of
    /// a throttle, `throttleRetryMs` when Google gives none.
    public static func fromHTTP(_ response: HTTPResponse, what: String, throttleRetryMs: Int, now: Date = Date()) -> DriverError {
        let error = JSONValue.parse(response.body)?["error"]
        let first = error?["errors"].array?.first
        let code = first?["reason"].string ?? error?["status"].string ?? ""
        var message = error?["message"].string ?? first?["message"].string
            ?? String(decoding: response.body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if let metric = quotaMetric(in: error) { message += " [quota \(metric)]" }
        let cls = classify(code: code, httpStatus: response.status, message: message)
        var retry = 0
        if cls == .rateLimit {
            retry = RetryAfter.milliseconds(response.headers["retry-after"], date: response.headers["date"], now: Int(now.timeIntervalSince1970),
                                            fallbackMs: throttleRetryMs)
        }
        return DriverError(cls, "\(what): \(message)", code: code, httpStatus: response.status, retryAfterMs: retry)
    }

    /// A finished operation's error (the first of `error.errors[]`, the rest in the message).
    public static func fromOperation(_ op: JSONValue, what: String, throttleRetryMs: Int) -> DriverError? {
        guard let errors = op["error"]["errors"].array, let first = errors.first else { return nil }
        let code = first["code"].string ?? ""
        var message = errors.compactMap { $0["message"].string }.joined(separator: "; ")
        if let metric = quotaMetric(in: op["error"]) { message += " [quota \(metric)]" }
        let status = op["httpErrorStatusCode"].int.map(Int.init) ?? 0
        let cls = classify(code: code, httpStatus: status, message: message)
        return DriverError(cls, "\(what): \(message)", code: code, httpStatus: status, retryAfterMs: cls == .rateLimit ? throttleRetryMs : 0)
    }

    /// `errorDetails[].quotaInfo.metricName` (e.g. `compute.googleapis.com/cpus`), when Google names it.
    static func quotaMetric(in error: JSONValue?) -> String? {
        for e in error?["errors"].array ?? [] {
            for d in e["errorDetails"].array ?? [] {
                if let name = d["quotaInfo"]["metricName"].string { return name }
            }
        }
        return nil
    }

    /// Failover ranks the errors of the zones tried: the most informative one is returned
    /// (capacity, then quota, then throttling and transient trouble, then invalid).
    public static func mostInformative(_ errors: [DriverError]) -> DriverError? {
        let rank: [ErrorClass: Int] = [.capacityType: 0, .capacityFamily: 0, .capacityGlobal: 0, .quota: 1, .rateLimit: 2, .transient: 3,
                                       .auth: 4, .notFound: 5, .invalid: 6]
        return errors.min { rank[$0.errorClass, default: 9] < rank[$1.errorClass, default: 9] }
    }

    /// Errors that concern one zone (no capacity there, the type or image not offered there):
    /// the next zone may succeed.
    public static func isZoneSpecific(_ error: DriverError) -> Bool {
        if error.errorClass == .capacityType { return true }
        let m = error.message.lowercased()
        return (error.errorClass == .invalid || error.errorClass == .notFound) && (m.contains("machinetype") || m.contains("machine type")
            || m.contains("zone") || m.contains("not available"))
    }
}
