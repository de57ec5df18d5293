import DriverSupport
import Foundation
import GCECore
import Testing

/// Google's two error layers (HTTP errors, failed operations) map to the ABI classes.
@Suite struct ErrorClassTests {
    static func httpError(_ status: Int, _ reason: String, _ message: String = "m") -> String {
        #"{"error": {"code": \#(status), "message": "\#(message)", "errors": [{"reason": "\#(reason)", "message": "\#(message)", "domain": "global"}]}}"#
    }

    func classOf(_ answer: @escaping Recorder.Answer) throws -> DriverError? {
        let (set, _) = try makeSet(answer)
        do {
            _ = try set.list(Data(#"{"tags": {}}"#.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func httpErrors() throws {
        let cases: [(Int, String, ErrorClass)] = [
            (403, "quotaExceeded", .quota), (403, "rateLimitExceeded", .rateLimit), (403, "userRateLimitExceeded", .rateLimit),
            (403, "forbidden", .auth), (403, "insufficientPermissions", .auth), (404, "notFound", .notFound),
            (400, "invalid", .invalid), (400, "badRequest", .invalid), (503, "backendError", .transient), (500, "internalError", .transient),
        ]
        for (status, reason, expected) in cases {
            let e = try classOf { _ in json(status, Self.httpError(status, reason)) }
            #expect(e?.errorClass == expected, "\(status) \(reason)")
            #expect(e?.code == reason && e?.httpStatus == status)
        }
    }

    @Test func throttlingCarriesRetryAfter() throws {
        let e = try classOf { _ in json(429, Self.httpError(429, "rateLimitExceeded"), headers: ["retry-after": "7"]) }
        #expect(e?.errorClass == .rateLimit && e?.retryAfterMs == 7000)
        let bare = try classOf { _ in json(429, "Too many") }
        #expect(bare?.errorClass == .rateLimit && bare?.retryAfterMs == 2000)  // throttle_retry_ms
    }

    @Test func unauthorizedRefetchesTheTokenOnceThenIsAuth() throws {
        let tokens = CountingTokens()
        let (set, rec) = try makeSet(tokens: tokens) { _ in json(401, Self.httpError(401, "authError")) }
        #expect(throws: DriverError.self) { try set.list(Data(#"{"tags": {}}"#.utf8)) }
        #expect(rec.sent.count == 2)
        #expect(tokens.fetches.withLock { $0 } == 2)
        let e = try classOf { _ in json(401, Self.httpError(401, "authError")) }
        #expect(e?.errorClass == .auth)
    }

    @Test func operationErrors() {
        func op(_ code: String, _ status: Int = 0, _ message: String = "x") -> DriverError? {
            ErrorMapping.fromOperation(JSONValue.parse(#"{"status": "DONE", "httpErrorStatusCode": \#(status), "error": {"errors": [{"code": "\#(code)", "message": "\#(message)"}]}}"#)!,
                                       what: "op", throttleRetryMs: 1000)
        }
        #expect(op("QUOTA_EXCEEDED", 403)?.errorClass == .quota)
        #expect(op("ZONE_RESOURCE_POOL_EXHAUSTED", 503)?.errorClass == .capacityType)
        #expect(op("ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS", 503)?.errorClass == .capacityType)
        #expect(op("SOMETHING", 503, "The zone does not have enough resources available")?.errorClass == .capacityType)
        #expect(op("RESOURCE_POOL_EXHAUSTED")?.errorClass == .capacityType)
        #expect(op("PERMISSION_DENIED", 403)?.errorClass == .auth)
        #expect(op("INVALID_FIELD_VALUE", 400)?.errorClass == .invalid)
        #expect(op("QUOTA_EXCEEDED", 403)?.code == "QUOTA_EXCEEDED")
    }

    @Test func quotaNamesItsMetric() {
        let e = ErrorMapping.fromOperation(JSONValue.parse(#"{"error": {"errors": [{"code": "QUOTA_EXCEEDED", "message": "Quota 'CPUS' exceeded.", "errorDetails": [{"quotaInfo": {"metricName": "compute.googleapis.com/cpus"}}]}]}}"#)!,
                                           what: "insert", throttleRetryMs: 0)
        #expect(e?.message.contains("CPUS") == true && e?.message.contains("compute.googleapis.com/cpus") == true)
    }
}
