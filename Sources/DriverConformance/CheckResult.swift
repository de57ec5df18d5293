import Foundation
import Units

/// The outcome of one conformance check.
public struct CheckResult: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Codable { case pass = "PASS", fail = "FAIL", skip = "SKIP" }

    public var name: String
    public var outcome: Outcome
    public var detail: String
    public var seconds: Double
}

/// Every check of one run, in order.
public struct ConformanceReport: Sendable, Codable {
    /// The id of the driver (or executor backend) certified.
    public var driver: String
    public var checks: [CheckResult]
    /// The run was cancelled (Ctrl-C) before every check ran; cleanup still ran.
    public var interrupted = false
    /// Instances cleanup could not destroy before its deadline: still running, still billed.
    public var leftovers: [String] = []
    /// What was certified: "driver" or "executor".
    public var kind = "driver"

    public var passed: Int { checks.filter { $0.outcome == .pass }.count }
    public var failed: Int { checks.filter { $0.outcome == .fail }.count }
    public var skipped: Int { checks.filter { $0.outcome == .skip }.count }
    public var succeeded: Bool { failed == 0 && passed > 0 && !interrupted && leftovers.isEmpty }

    public func check(_ name: String) -> CheckResult? { checks.first { $0.name == name } }

    /// A fixed-width table, then the closing count line.
    public func table() -> String {
        let width = max(5, checks.map(\.name.count).max() ?? 0)
        var lines = ["\(kind) \(driver)", "RESULT  \("CHECK".padding(toLength: width, withPad: " ", startingAt: 0))  SECONDS  DETAIL"]
        for c in checks {
            let seconds = String(c.seconds.formatted2).leftPadded(to: 7)
            lines.append("\(c.outcome.rawValue)    \(c.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(seconds)  \(c.detail)")
        }
        if interrupted { lines.append("interrupted: the checks marked SKIP did not run") }
        lines += leftovers.map { "LEFTOVER \($0)" }
        lines.append("\(passed) passed, \(failed) failed, \(skipped) skipped")
        return lines.joined(separator: "\n")
    }
}

extension Double {
    var formatted2: String {
        let hundredths = Int((self * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}
