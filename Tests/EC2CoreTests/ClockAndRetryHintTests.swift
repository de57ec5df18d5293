import DriverSupport
import EC2Core
import Foundation
import Testing

@Suite struct ClockAndRetryHintTests {
    /// The test sets' clock (`TestSets`), 2015-08-30T12:36:00Z.
    static let local = 1_440_938_160

    static func httpDate(_ seconds: Int) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// An EC2 whose clock is `ahead` seconds past ours and that refuses requests signed more than
    /// five minutes off its time with `code`, as EC2 does.
    static func ec2(ahead: Int, code: String = "RequestExpired") -> FakeEC2 {
        FakeEC2 { _, request in
            let server = local + ahead
            let amzDate = request.headers.first { $0.0.lowercased() == "x-amz-date" }?.1 ?? ""
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "GMT")
            f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
            let signed = f.date(from: amzDate).map { Int($0.timeIntervalSince1970) } ?? 0
            guard abs(signed - server) <= 300 else {
                return FakeEC2.error(400, code, "Request has expired.", headers: ["date": httpDate(server)])
            }
            return FakeEC2.ok(Fixtures.describe([]))
        }
    }

    @Test func requestExpiredIsSignedAgainWithTheServersTime() throws {
        let fake = Self.ec2(ahead: 3600)
        let set = TestSets.set(fake)
        _ = try set.list(Data(#"{"tags": {}}"#.utf8))
        #expect(fake.calls.count == 2, "refused once, then accepted with EC2's time")
        _ = try set.list(Data(#"{"tags": {}}"#.utf8))
        #expect(fake.calls.count == 3, "the correction is kept")

        let signature = Self.ec2(ahead: -1200, code: "SignatureDoesNotMatch")
        _ = try TestSets.set(signature).list(Data(#"{"tags": {}}"#.utf8))
        #expect(signature.calls.count == 2)
    }

    @Test func stillRefusedForTheTimeAfterOneCorrectionIsTransient() throws {
        // A server whose Date header keeps moving away from the time it accepts.
        let served = SharedCount()
        let drifting = FakeEC2 { _, _ in
            let n = served.add(1) + 1
            return FakeEC2.error(400, "RequestExpired", "Request has expired.", headers: ["date": Self.httpDate(Self.local + 3600 * n)])
        }
        let error = try #require(failure { try TestSets.set(drifting).list(Data(#"{"tags": {}}"#.utf8)) })
        #expect(error.errorClass == .transient && error.code == "RequestExpired")
        #expect(drifting.calls.count == 2, "one retry, no more")

        let noDate = FakeEC2 { _, _ in FakeEC2.error(400, "RequestExpired", "Request has expired.") }
        #expect(failure { try TestSets.set(noDate).list(Data(#"{"tags": {}}"#.utf8)) }?.errorClass == .transient)
        #expect(noDate.calls.count == 1)

        let wrongSecret = FakeEC2 { _, _ in FakeEC2.error(401, "AuthFailure", "no", headers: ["date": Self.httpDate(Self.local)]) }
        #expect(failure { try TestSets.set(wrongSecret).list(Data(#"{"tags": {}}"#.utf8)) }?.errorClass == .auth)
        #expect(wrongSecret.calls.count == 1, "a right clock is not retried")
    }

    @Test func retryAfterAsSecondsOrHTTPDate() {
        let date = Self.httpDate(Self.local)
        let asDate = EC2Client.error(from: FakeEC2.error(503, "RequestLimitExceeded", "slow down",
                                                         headers: ["retry-after": Self.httpDate(Self.local + 7), "date": date]),
                                     throttleRetryMs: 2000, now: 0)
        #expect(asDate.retryAfterMs == 7000, "counted from the reply's own Date")
        let noDateHeader = EC2Client.error(from: FakeEC2.error(503, "RequestLimitExceeded", "slow down",
                                                               headers: ["retry-after": Self.httpDate(Self.local + 4)]),
                                           throttleRetryMs: 2000, now: Self.local)
        #expect(noDateHeader.retryAfterMs == 4000)
        #expect(RetryAfter.milliseconds("Sun, 30 Aug 2015 12:35:00 GMT", date: nil, now: Self.local, fallbackMs: 2000) == 0, "a past date: now")
        #expect(RetryAfter.milliseconds("12", date: nil, now: 0, fallbackMs: 2000) == 12_000)
        #expect(RetryAfter.milliseconds("soon", date: nil, now: 0, fallbackMs: 2000) == 2000, "not a hint: the fallback")
        #expect(HTTPDate.seconds("Sun, 30 Aug 2015 12:36:00 GMT") == Self.local)
    }
}
