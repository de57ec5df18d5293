import Foundation

/// Sizes and durations as the configuration file writes them. (The CLI has its own parser in
/// APIClient; Config depends on no other module of the project.)
enum Units {
    /// Longest, first: "KiB" must win over "B".
    private static let sizeUnits: [(String, Int64)] = [
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
        ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40), ("B", 1),
    ]
    private static let durationUnits: [String: Double] = ["ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400]

    /// "4GiB", "512MiB", "1.5GiB", "2GB", "1000" → bytes; nil when not a size or beyond Int64.
    static func bytes(_ text: String) -> Int64? {
        var number = Substring(text.trimmingCharacters(in: .whitespaces))
        var factor: Int64 = 1
        if let (suffix, f) = sizeUnits.first(where: { number.hasSuffix($0.0) }) {
            number = number.dropLast(suffix.count)
            factor = f
            while number.last == " " { number = number.dropLast() }
        }
        guard isDecimal(number) else { return nil }
        if let whole = Int64(number) {  // exact, without going through Double
            let (bytes, overflow) = whole.multipliedReportingOverflow(by: factor)
            return overflow ? nil : bytes
        }
        guard let n = Double(number) else { return nil }
        let bytes = (n * Double(factor)).rounded()
        return bytes < 9.2e18 ? Int64(bytes) : nil
    }

    /// "90s", "5m", "1h30m", "1.5s", "250ms", "2d", "300" → seconds; nil when not a duration.
    static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if isDecimal(Substring(trimmed)) { return Double(trimmed) }
        var total = 0.0
        var rest = Substring(trimmed)
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unit.count)
            guard isDecimal(number), let n = Double(number), let factor = durationUnits[String(unit)] else { return nil }
            total += n * factor
        }
        return trimmed.isEmpty ? nil : total
    }

    /// Digits with at most one inner decimal point: no signs, exponents, "inf" or hex, which
    /// `Double.init` would also take.
    private static func isDecimal(_ s: Substring) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// 1073741824 → "1GiB"; a size no binary unit divides stays a number of bytes, so it reads back exactly.
    static func describe(bytes: Int64) -> String {
        for (name, size) in [("TiB", Int64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes != 0 && bytes % size == 0 {
            return "\(bytes / size)\(name)"
        }
        return String(bytes)
    }

    /// 5400 → "1h30m", 0 → "0s"; a fraction of a second stays a plain number of seconds (exact).
    static func describe(seconds: Double) -> String {
        guard seconds >= 0, seconds < 1e15, seconds.rounded() == seconds else { return "\(seconds)" }
        var left = Int64(seconds)
        var text = ""
        for (name, size) in [("d", Int64(86400)), ("h", 3600), ("m", 60), ("s", 1)] where left >= size {
            text += "\(left / size)\(name)"
            left %= size
        }
        return text.isEmpty ? "0s" : text
    }
}
