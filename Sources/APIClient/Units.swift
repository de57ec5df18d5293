/// Sizes and durations as people write them on a command line.
public enum Units {
    /// "4GiB", "512MiB", "1.5GiB", "2GB", "1000000" → bytes. Binary units (KiB, MiB, GiB, TiB) and
    /// decimal ones (KB, MB, GB, TB); a bare number is bytes.
    public static func bytes(_ text: String) -> Int64? {
        let units: [(String, Double)] = [
            ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
            ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("K", 1024), ("M", 1_048_576), ("G", 1_073_741_824),
            ("T", 1_099_511_627_776), ("B", 1),
        ]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let n = Double(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), n >= 0 else { return nil }
            return Int64((n * factor).rounded())
        }
        return Int64(trimmed).flatMap { $0 >= 0 ? $0 : nil }
    }

    /// "90s", "45m", "2h", "1h30m", "1d", "300" → seconds.
    public static func seconds(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let plain = Int(trimmed) { return plain >= 0 ? plain : nil }
        var total = 0
        var number = ""
        for ch in trimmed {
            if ch.isNumber {
                number.append(ch)
                continue
            }
            let factor: Int
            switch ch {
            case "s": factor = 1
            case "m": factor = 60
            case "h": factor = 3600
            case "d": factor = 86400
            default: return nil
            }
            guard let n = Int(number) else { return nil }
            total += n * factor
            number = ""
        }
        return number.isEmpty && !trimmed.isEmpty ? total : nil
    }

    /// 1073741824 → "1GiB", 1500000 → "1.4MiB".
    public static func describe(bytes: Int64) -> String {
        let steps: [(String, Double)] = [("TiB", 1_099_511_627_776), ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024)]
        for (name, size) in steps where Double(bytes) >= size {
            let value = Double(bytes) / size
            return value.rounded() == value ? "\(Int(value))\(name)" : "\((value * 10).rounded() / 10)\(name)"
        }
        return "\(bytes)B"
    }

    /// 3725 → "1h2m", 42 → "42s".
    public static func describe(seconds: Int) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(seconds % 60 == 0 ? "" : "\(seconds % 60)s")" }
        if seconds < 86400 { return "\(seconds / 3600)h\(seconds % 3600 / 60 == 0 ? "" : "\(seconds % 3600 / 60)m")" }
        return "\(seconds / 86400)d\(seconds % 86400 / 3600 == 0 ? "" : "\(seconds % 86400 / 3600)h")"
    }
}

import Foundation
