import DriverSupport
import Foundation

/// HTTP's date format (RFC 9110 IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`), as the `Date`
/// and `Retry-After` headers carry it, to seconds since the epoch.
///
///     HTTPDate.seconds("Sun, 30 Aug 2015 12:36:00 GMT")  // 1_440_938_160
public enum HTTPDate {
    public static func seconds(_ text: String) -> Int? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text.trimmingCharacters(in: .whitespaces)) { return Int(date.timeIntervalSince1970) }
        }
        return nil
    }

    /// A `Retry-After` value — delay seconds or an HTTP date — as milliseconds from `now`
    /// (never negative); nil when it is neither.
    public static func retryAfterMs(_ value: String, now: Int) -> Int? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let delay = Int(trimmed) { return max(0, delay) * 1000 }
        return seconds(trimmed).map { max(0, $0 - now) * 1000 }
    }
}
