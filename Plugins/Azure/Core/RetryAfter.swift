import DriverSupport
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

/// HTTP's date format (IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, and the two obsolete
/// forms RFC 9110 still asks recipients to accept) to seconds since the epoch.
public enum HTTPDate {
    public static func seconds(_ text: String) -> Int? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text.trimmingCharacters(in: .whitespaces)) {
                let t = date.timeIntervalSince1970
                return t.isFinite && abs(t) < 1e12 ? Int(t) : nil
            }
        }
        return nil
    }
}
