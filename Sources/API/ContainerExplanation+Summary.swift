import APIModels
import Foundation
import Queue

extension ContainerExplanation {
    /// The answer to `explain` for `c`, from what the scheduler knows of it: its scheduling
    /// `status` and place in the last round's queue (`position` 1 = next, nil when not in it), and
    /// each configured type's verdict, cheapest first.
    public init(_ c: Container, status: String?, position: Int?, queueLength: Int?, types: [TypeVerdict]) {
        self.init(
            uuid: c.uuid, state: c.state.rawValue, summary: Self.summary(c, status: status, anyEligible: types.contains { $0.eligible }),
            priority: c.priority, position: position, queueLength: position == nil ? nil : queueLength, schedulingStatus: status,
            attemptsEnded: c.lockCount, warning: c.runtimeStatus.warning, error: c.runtimeStatus.error, instance: c.instance,
            exitCode: c.exitCode, cost: c.cost, types: types)
    }

    /// One sentence for "why?": how it ended, where it runs, or why it still waits.
    public static func summary(_ c: Container, status: String?, anyEligible: Bool) -> String {
        switch c.state {
        case .complete:
            var ran = ""
            if let started = c.startedAt, let finished = c.finishedAt { ran = String(format: " after %.1f s", finished.timeIntervalSince(started)) }
            return "completed with exit code \(c.exitCode ?? -1) on \(c.instance ?? "an instance")\(ran)"
        case .cancelled: return "cancelled: \(c.runtimeStatus.error ?? "no reason recorded")"
        case .running: return "running on \(c.instance ?? "an instance")"
        case .queued, .locked:
            if c.priority == 0 { return "priority 0: it waits until its priority is raised" }
            if !anyEligible { return "no configured instance type can run it (see types)" }
            return status ?? "waiting for the next scheduling round"
        }
    }
}
