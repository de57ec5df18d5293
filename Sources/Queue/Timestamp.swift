import Foundation
import Units

/// RFC 3339 timestamps with milliseconds, in UTC ("2026-11-29T06:00:00.123Z"). Dates are kept
/// as whole milliseconds, so what a store writes reads back equal.
public enum Timestamp {
    /// Now, to the millisecond.
    public static func now() -> Date { date(milliseconds: milliseconds(Date())) }

    public static func format(_ date: Date) -> String {
        let ms = milliseconds(date)
        var seconds = time_t(ms.floorDivided(by: 1000))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let fraction = Int(ms - Int64(seconds) * 1000)
        func pad(_ n: Int32, _ width: Int) -> String { String(n).leftPadded(to: width, with: "0") }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(String(fraction).leftPadded(to: 3, with: "0"))Z"
    }

    public static func parse(_ s: String) -> Date? {
        switch parseOwnFormat(s) {
        case .moment(let date): return date
        case .impossible: return nil
        case .notOurs: break
        }
        // Whole seconds through Foundation, the fraction (any precision) by hand.
        var whole = s
        var ms: Int64 = 0
        if let dot = s.firstIndex(of: "."), let zone = s[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            let digits = s[s.index(after: dot)..<zone].prefix(3)
            guard digits.allSatisfy(\.isNumber) else { return nil }
            ms = Int64(digits.padding(toLength: 3, withPad: "0", startingAt: 0)) ?? 0
            whole = String(s[..<dot]) + String(s[zone...])
        }
        guard let date = try? Date(whole, strategy: .iso8601) else { return nil }
        return self.date(milliseconds: Int64(date.timeIntervalSince1970.rounded()) * 1000 + ms)
    }

    /// Exactly what `format` writes ("2026-11-29T11:48:29.123Z") is read by hand: reading the
    /// queue parses several dates per container, and Foundation's general ISO 8601 parser was
    /// a tenth of a scheduling round. Other forms are left to Foundation.
    enum OwnFormat {
        case notOurs
        /// In this form, but no real moment ("2025-02-29T…", "…T24:00…").
        case impossible
        case moment(Date)
    }

    static func parseOwnFormat(_ s: String) -> OwnFormat {
        s.utf8.withContiguousStorageIfAvailable { b -> OwnFormat in
            guard b.count == 24, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
                b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"), b[19] == UInt8(ascii: "."), b[23] == UInt8(ascii: "Z")
            else { return .notOurs }
            func number(_ range: Range<Int>) -> Int32? {
                var n: Int32 = 0
                for i in range {
                    let digit = b[i] &- UInt8(ascii: "0")
                    guard digit < 10 else { return nil }
                    n = n * 10 + Int32(digit)
                }
                return n
            }
            guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
                let minute = number(14..<16), let second = number(17..<19), let ms = number(20..<23),
                hour < 24, minute < 60, second < 60
            else { return .impossible }
            var parts = tm()
            (parts.tm_year, parts.tm_mon, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec) = (
                year - 1900, month - 1, day, hour, minute, second
            )
            var seconds = timegm(&parts)
            // timegm moves 31 February to March: a date that moved did not exist.
            var check = tm()
            gmtime_r(&seconds, &check)
            guard check.tm_mon == month - 1, check.tm_mday == day else { return .impossible }
            return .moment(date(milliseconds: Int64(seconds) * 1000 + Int64(ms)))
        } ?? .notOurs
    }

    public static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    public static func date(milliseconds ms: Int64) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
}

extension Int64 {
    func floorDivided(by d: Int64) -> Int64 { self >= 0 ? self / d : -((-self + d - 1) / d) }
}
