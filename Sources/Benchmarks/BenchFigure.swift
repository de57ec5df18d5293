import Foundation

/// One number a benchmark reports, with the target the issues hold it to. Every `bench`
/// subcommand ends by printing its figures as `figure` lines (tab-separated), which
/// `support/bench.sh` gathers into `make bench`'s one table.
///
///     print(BenchFigure("queue postgresql", "submit, 1 per request", rate, "/s", .atLeast(2_000)).line)
public struct BenchFigure: Sendable {
    public enum Goal: Sendable {
        case atLeast(Double)
        case atMost(Double)
        /// Reported for comparison; no issue sets a target.
        case none

        /// "≥ 2,000/s", "≤ 500 ms", or "-".
        public func text(unit: String) -> String {
            switch self {
            case .atLeast(let bound): "≥ \(BenchFigure.format(bound))\(unit)"
            case .atMost(let bound): "≤ \(BenchFigure.format(bound))\(unit)"
            case .none: "-"
            }
        }
    }

    public var benchmark: String
    public var name: String
    public var value: Double
    public var unit: String
    public var goal: Goal

    public init(_ benchmark: String, _ name: String, _ value: Double, _ unit: String, _ goal: Goal) {
        self.benchmark = benchmark
        self.name = name
        self.value = value
        self.unit = unit
        self.goal = goal
    }

    public var met: Bool? {
        switch goal {
        case .atLeast(let bound): value >= bound
        case .atMost(let bound): value <= bound
        case .none: nil
        }
    }

    /// `figure <TAB> benchmark <TAB> name <TAB> value <TAB> target <TAB> pass|miss|-`
    public var line: String {
        let target = goal.text(unit: unit)
        let verdict = met.map { $0 ? "pass" : "miss" } ?? "-"
        return ["figure", benchmark, name, Self.format(value) + unit, target, verdict].joined(separator: "\t")
    }

    /// Whole numbers with thousands separators; small ones with up to two decimals.
    static func format(_ value: Double) -> String {
        if value.rounded() == value || abs(value) >= 100 {
            let digits = String(Int(value.rounded()))
            var out = ""
            for (i, ch) in digits.reversed().enumerated() {
                if i > 0 && i % 3 == 0 && ch != "-" { out.append(",") }
                out.append(ch)
            }
            return String(out.reversed())
        }
        return String(format: abs(value) >= 10 ? "%.1f" : "%.2f", value)
    }
}

/// The targets the issues set, in one place (issue numbers beside them).
public enum BenchTargets {
    /// Issue 4 (a): decisions per second of one pass at 100k containers × 10k instances.
    public static let schedulerDecisions = BenchFigure.Goal.atLeast(50_000)
    /// Issue 4 (b): submit → lock/start decision, p99 on a running dispatcher.
    public static let dispatchP99 = BenchFigure.Goal.atMost(50)
    /// Issue 4 (c): lower bound / bill on the simulated workload.
    public static let costEfficiency = BenchFigure.Goal.atLeast(90)
    /// Issue 4 (c): no VM created and destroyed unused.
    public static let costDestroyedUnused = BenchFigure.Goal.atMost(0)
    /// Issue 4 (d): resident memory at 100k queued / 10k instances, MB.
    public static let memoryMB = BenchFigure.Goal.atMost(300)
    /// Issue 18 (2): a round at 100,000 waiting + 10,000 running.
    public static let roundMilliseconds = BenchFigure.Goal.atMost(500)
    /// Issue 18 (2): submit → lock decision at that depth, p99 in ms.
    public static let roundLockP99 = BenchFigure.Goal.atMost(50)
    /// Issue 18 (3): PostgreSQL, one container per submit.
    public static let postgresSingleSubmits = BenchFigure.Goal.atLeast(2_000)
    /// Issue 18 (3): PostgreSQL, batched submits.
    public static let postgresBatchedSubmits = BenchFigure.Goal.atLeast(20_000)
    /// Issue 18 (4): 1,000 one-VM containers requested in at most 10 create calls and 30 s.
    public static let rampCreateCalls = BenchFigure.Goal.atMost(10)
    public static let rampSeconds = BenchFigure.Goal.atMost(30)
}
