/// Sizes and durations as people write them, in the configuration file and on the command line:
/// one parser, one set of rules, so `ram: 4GiB` in a file and `--ram 4GiB` mean the same.
///
///     try Units.bytes("1.5GiB")    // 1610612736
///     try Units.seconds("1h30m")   // 5400
///     Units.describe(bytes: 1 << 30)   // "1GiB" (reads back exactly)
///     Units.brief(bytes: 1_500_000)    // "1.4MiB" (for tables)
public enum Units {
    /// Longest first: "KiB" must win over "B".
    static let sizeUnits: [(String, Int64)] = [
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
        ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40), ("B", 1),
    ]
    static let durationUnits: [String: Double] = ["ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400]
    /// Past this a duration is surely a typo, and converting it to whole seconds or a timer would overflow.
    public static let longestSeconds = 1e15

    /// "4GiB", "512MiB", "1.5GiB", "2GB", "1000" → bytes. Never through a conversion that can
    /// trap: "inf", "nan", exponents, signs and sizes beyond Int64 are refused with the cause.
    public static func bytes(_ text: String) throws(UnitsProblem) -> Int64 {
        var number = trimmed(text)
        var factor: Int64 = 1
        if let (suffix, f) = sizeUnits.first(where: { number.hasSuffix($0.0) }) {
            number = number.dropLast(suffix.count)
            factor = f
            while number.last == " " { number = number.dropLast() }
        }
        guard isDecimal(number) else { throw .notASize(text) }
        if let whole = Int64(number) {  // exact, without going through Double
            let (bytes, overflow) = whole.multipliedReportingOverflow(by: factor)
            if overflow { throw .tooLarge(text, limit: "8EiB") }
            return bytes
        }
        // Digits that do not fit Int64, or a decimal fraction: Double is exact enough for a size.
        guard let n = Double(number) else { throw .notASize(text) }
        let bytes = (n * Double(factor)).rounded()
        guard bytes < 9.2e18 else { throw .tooLarge(text, limit: "8EiB") }
        return Int64(bytes)
    }

    /// "90s", "5m", "1h30m", "1.5s", "250ms", "2d", "300" → seconds.
    public static func seconds(_ text: String) throws(UnitsProblem) -> Double {
        let plain = trimmed(text)
        var total = 0.0
        if isDecimal(plain) {
            total = Double(plain) ?? .infinity
        } else {
            var rest = plain
            while !rest.isEmpty {
                let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
                rest = rest.dropFirst(number.count)
                let unit = rest.prefix { $0.isASCII && $0.isLetter }
                rest = rest.dropFirst(unit.count)
                guard isDecimal(number), let n = Double(number), let factor = durationUnits[String(unit)] else { throw .notADuration(text) }
                total += n * factor
            }
            if plain.isEmpty { throw .notADuration(text) }
        }
        guard total < longestSeconds else { throw .tooLarge(text, limit: "11574074074d") }
        return total
    }

    /// A duration that must be a whole number of seconds ("90s", "2h"; not "1.5s" or "250ms").
    public static func wholeSeconds(_ text: String) throws(UnitsProblem) -> Int {
        let s = try seconds(text)
        guard s.rounded() == s else { throw .notWholeSeconds(text) }
        return Int(s)  // below longestSeconds, so it fits
    }

    /// 1073741824 → "1GiB"; a size no binary unit divides stays a number of bytes, so it reads back exactly.
    public static func describe(bytes: Int64) -> String {
        for (name, size) in [("TiB", Int64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes != 0 && bytes % size == 0 {
            return "\(bytes / size)\(name)"
        }
        return String(bytes)
    }

    /// 5400 → "1h30m", 0 → "0s"; a fraction of a second stays a plain number of seconds (exact).
    public static func describe(seconds: Double) -> String {
        guard seconds >= 0, seconds < longestSeconds, seconds.rounded() == seconds else { return "\(seconds)" }
        var left = Int64(seconds)
        var text = ""
        for (name, size) in [("d", Int64(86400)), ("h", 3600), ("m", 60), ("s", 1)] where left >= size {
            text += "\(left / size)\(name)"
            left %= size
        }
        return text.isEmpty ? "0s" : text
    }

    /// For tables, not for reading back: 1500000 → "1.4MiB", 512 → "512B".
    public static func brief(bytes: Int64) -> String {
        for (name, size) in [("TiB", 1_099_511_627_776.0), ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024)] where Double(bytes) >= size {
            let value = Double(bytes) / size
            return value.rounded() == value ? "\(Int64(value))\(name)" : "\((value * 10).rounded() / 10)\(name)"
        }
        return "\(bytes)B"
    }

    /// For tables, not for reading back: the two largest units, 3725 → "1h2m", 42 → "42s".
    public static func brief(seconds: Int) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(seconds % 60 == 0 ? "" : "\(seconds % 60)s")" }
        if seconds < 86400 { return "\(seconds / 3600)h\(seconds % 3600 / 60 == 0 ? "" : "\(seconds % 3600 / 60)m")" }
        return "\(seconds / 86400)d\(seconds % 86400 / 3600 == 0 ? "" : "\(seconds % 86400 / 3600)h")"
    }

    /// Digits with at most one inner decimal point: no signs, exponents, "inf", "nan" or hex,
    /// which `Double.init` would also take.
    static func isDecimal(_ s: Substring) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    static func trimmed(_ text: String) -> Substring {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !blank($0) }), let last = text.lastIndex(where: { !blank($0) }) else { return "" }
        return text[first...last]
    }
}
