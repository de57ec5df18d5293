@testable import AzureCore
import DriverSupport
import Foundation
import Testing

/// Throttling answers in every form ARM (or a proxy in front of it) may give, and the error
/// table: the reference dispatcher crashed on a 429 without a parseable Retry-After.
@Suite struct RetryAfterAndErrorTests {
    let now = 1_440_938_160  // Sun, 30 Aug 2015 12:36:00 GMT

    @Test func secondsDatesAndGarbage() {
        #expect(RetryAfter.milliseconds("7", date: nil, now: now, fallbackMs: 10_000) == 7_000)
        #expect(RetryAfter.milliseconds(" 0 ", date: nil, now: now, fallbackMs: 10_000) == 0)
        #expect(RetryAfter.milliseconds("Sun, 30 Aug 2015 12:36:05 GMT", date: nil, now: now, fallbackMs: 10_000) == 5_000)
        // Counted from the reply's own Date when it has one (a server whose clock differs).
        #expect(RetryAfter.milliseconds("Sun, 30 Aug 2015 12:36:05 GMT", date: "Sun, 30 Aug 2015 12:36:03 GMT", now: now, fallbackMs: 1) == 2_000)
        #expect(RetryAfter.milliseconds("Sun, 30 Aug 2015 12:00:00 GMT", date: nil, now: now, fallbackMs: 10_000) == 0, "a date passed")
        #expect(RetryAfter.milliseconds(nil, date: nil, now: now, fallbackMs: 10_000) == 10_000)
        #expect(RetryAfter.milliseconds("", date: nil, now: now, fallbackMs: 10_000) == 10_000)
        #expect(RetryAfter.milliseconds("soon", date: nil, now: now, fallbackMs: 10_000) == 10_000)
        #expect(RetryAfter.milliseconds("-5", date: nil, now: now, fallbackMs: 10_000) == 10_000)
        #expect(RetryAfter.milliseconds("1.5", date: nil, now: now, fallbackMs: 10_000) == 10_000)
        // Would overflow Int when multiplied: clamped, never a crash.
        #expect(RetryAfter.milliseconds("99999999999999999999999", date: nil, now: now, fallbackMs: 10_000) == RetryAfter.ceilingMs)
        #expect(RetryAfter.milliseconds("9223372036854775807", date: nil, now: now, fallbackMs: 10_000) == RetryAfter.ceilingMs)
        #expect(RetryAfter.milliseconds("Fri, 31 Dec 9999 23:59:59 GMT", date: nil, now: now, fallbackMs: 1) == RetryAfter.ceilingMs)
    }

    @Test(arguments: [
        ("QuotaExceeded", "", 409, ErrorClass.quota),
        ("OperationNotAllowed", "Operation could not be completed as it results in exceeding approved standardDSv3Family Cores quota.", 409, .quota),
        ("OperationNotAllowed", "The operation is not allowed on a VM being deleted.", 409, .invalid),
        ("SkuNotAvailable", "", 409, .capacityType),
        ("AllocationFailed", "", 200, .capacityType),
        ("ZonalAllocationFailed", "", 200, .capacityType),
        ("OverconstrainedAllocationRequest", "", 200, .capacityType),
        ("OverconstrainedZonalAllocationRequest", "", 200, .capacityType),
        ("", "", 429, .rateLimit),
        ("SubscriptionRequestsThrottled", "", 429, .rateLimit),
        ("AuthorizationFailed", "", 403, .auth),
        ("InvalidAuthenticationToken", "", 401, .auth),
        ("", "", 401, .auth),
        ("ResourceNotFound", "", 404, .notFound),
        ("ResourceGroupNotFound", "", 404, .invalid),
        ("InvalidParameter", "", 400, .invalid),
        ("", "", 400, .invalid),
        ("InternalServerError", "", 500, .transient),
        ("", "", 503, .transient),
        ("AnotherOperationInProgress", "", 409, .transient),
    ])
    func errorTable(code: String, message: String, status: Int, expected: ErrorClass) {
        #expect(ErrorMapping.classify(code: code, message: message, httpStatus: status) == expected)
    }

    @Test func cloudErrorBodiesKeepCodeAndMessage() {
        let body = #"{"error": {"code": "BadRequest", "message": "outer", "details": [{"code": "InvalidParameter", "message": "The value of parameter imageReference.sku is invalid.", "target": "imageReference.sku"}]}}"#
        let e = ARMClient.error(status: 400, headers: [:], json: JSONValue.parse(body)!, body: Array(body.utf8), now: now, throttleRetryMs: 1)
        #expect(e.errorClass == .invalid && e.code == "InvalidParameter" && e.message.contains("imageReference.sku") && e.httpStatus == 400)
        let html = Array("<html>\nGateway Timeout</html>".utf8)
        let g = ARMClient.error(status: 504, headers: [:], json: .null, body: html, now: now, throttleRetryMs: 1)
        #expect(g.errorClass == .transient && g.message == "<html>")
    }

    @Test(arguments: [nil, "7", "Sun, 30 Aug 2015 12:36:09 GMT", "garbage", "99999999999999999999"] as [String?])
    func throttledCallsNeverCrash(header: String?) throws {
        let (set, _) = scriptedSet(clock: { 1_440_938_160 }) { request throws(DriverError) in
            jsonResponse(429, ["error": ["code": "TooManyRequests", "message": "slow down"]],
                         headers: header.map { ["retry-after": $0] } ?? [:])
        }
        let e = try #require(failure { try set.list(body(["tags": [String: String]()])) })
        #expect(e.errorClass == .rateLimit && e.httpStatus == 429 && e.code == "TooManyRequests")
        let expected = switch header {
        case "7": 7_000
        case "Sun, 30 Aug 2015 12:36:09 GMT": 9_000
        case "99999999999999999999": RetryAfter.ceilingMs
        default: 10_000  // throttle_retry_ms
        }
        #expect(e.retryAfterMs == expected, "Retry-After \(header ?? "(none)")")
    }
}
