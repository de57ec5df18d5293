import Foundation

/// A `Retry-After` header — delay seconds or an HTTP date (RFC 9110) — as milliseconds.
/// Anything else (missing, garbage, negative, absurdly large) gives the fallback or is
/// clamped: a throttling answer must never crash the driver or stall the host for a day.
///
///     RetryAfter.milliseconds("7", date: nil, now: 0, fallbackMs: 10_000)        // 7_000
///     RetryAfter.milliseconds(nil, date: nil, now: 0, fallbackMs: 10_000)        // 10_000
public enum RetryAfter {
    /// The longest hint passed on (one hour).
    public static let ceilingMs = 3_600_000

    /// `value` read against the reply's `Date` header when it has one, else `now` (epoch seconds).
    public static func milliseconds(_ value: String?, date: String?, now: Int, fallbackMs: Int) -> Int {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return fallbackMs }
        if value.allSatisfy(\.isNumber) {
            // Digits only; more than 7 of them is over the ceiling anyway (and would overflow).
            guard value.count <= 7, let seconds = Int(value) else { return ceilingMs }
            return min(ceilingMs, seconds * 1000)
        }
        guard let at = HTTPDate.seconds(value) else { return fallbackMs }
        let reference = date.flatMap(HTTPDate.seconds) ?? now
        return min(ceilingMs, max(0, at - reference) * 1000)
    }
}
