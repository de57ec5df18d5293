/// Recognises a request refused because the signer's clock is off: an error code that AWS
/// uses for a time out of range (or a signature that may be wrong only because of the time)
/// together with a `Date` header more than `tolerance` seconds from ours. The server's time is
/// then the one to sign with, as the AWS SDKs do.
///
///     if let server = ClockSkew.serverTime(of: response, now: now) { skew = server - clock() }  // then sign again
import DriverSupport
enum ClockSkew {
    static let codes: Set<String> = ["RequestExpired", "RequestTimeTooSkewed", "RequestInTheFuture",
                                     "SignatureDoesNotMatch", "InvalidSignatureException", "AuthFailure"]
    /// SigV4 allows 5 minutes; the `Date` header has 1 s resolution and the reply took a while.
    static let tolerance = 60

    /// The server's time from its `Date`; nil when the reply is not a clock problem.
    static func serverTime(of response: HTTPResponse, now: Int) -> Int? {
        guard response.status >= 400, let date = response.headers["date"].flatMap(HTTPDate.seconds) else { return nil }
        let code = EC2Client.error(from: response, throttleRetryMs: 0, now: now).code
        guard codes.contains(code), abs(date - now) > tolerance else { return nil }
        return date
    }
}
