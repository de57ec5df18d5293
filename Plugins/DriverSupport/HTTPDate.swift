import Foundation

/// HTTP's date format (IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, and the two obsolete
/// forms RFC 9110 still asks recipients to accept) to seconds since the epoch, as the `Date`
/// and `Retry-After` headers carry it.
///
///     HTTPDate.seconds("Sun, 30 Aug 2015 12:36:00 GMT")  // 1_440_938_160
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
