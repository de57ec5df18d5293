/// Why a size or a duration was refused; the text quotes what was given and says what would do.
public enum UnitsProblem: Error, Sendable, Equatable, CustomStringConvertible {
    case notASize(String)
    case notADuration(String)
    case notWholeSeconds(String)
    /// More than the largest value it can stand for (`limit`, in the same units).
    case tooLarge(String, limit: String)

    public var description: String {
        switch self {
        case .notASize(let text):
            "\(quoted(text)) is not a size (bytes, or a number with B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)"
        case .notADuration(let text):
            "\(quoted(text)) is not a duration (seconds, or numbers with ms, s, m, h or d, e.g. 90s, 5m, 1h30m)"
        case .notWholeSeconds(let text):
            "\(quoted(text)) is not a whole number of seconds"
        case .tooLarge(let text, let limit):
            "\(quoted(text)) is too large (at most \(limit))"
        }
    }

    /// Long input is cut, so one bad value cannot flood a log line.
    private func quoted(_ s: String) -> String { "\"\(s.count > 60 ? String(s.prefix(60)) + "…" : s)\"" }
}
