import DriverHost

/// What an ended job means for its container: the policy keyed off the backend's end reason
/// (the closed set in cloud_dispatch_executor.h), with the words the operator reads.
enum JobOutcome: Equatable {
    /// The command ran: its exit code is the container's result.
    case result(exitCode: Int)
    /// Ends the container (Cancelled) with this reason.
    case end(reason: String)
    /// Back to the queue, an attempt counted (the budget may cancel it instead).
    case retry(reason: String)
    /// Back to the queue, no attempt counted: the infrastructure's doing.
    case interrupted(reason: String)

    /// `stopping`: the host asked the job to stop (the container was cancelled or its priority set to 0).
    static func of(_ job: BackendJob, stopping: Bool) -> JobOutcome {
        let said = job.message.isEmpty ? "" : ": \(job.message)"
        let on = job.where.isEmpty ? "" : " on \(job.where)"
        switch job.endReason ?? .lost {
        case .exited:
            guard let code = job.exitCode else { return .retry(reason: "job \(job.id) exited without an exit code\(said)") }
            return .result(exitCode: code)
        case .failedToStart: return .end(reason: "could not be started by the executor backend (job \(job.id))\(said)")
        case .timeout: return .end(reason: "ran past its max_run_time and was stopped (job \(job.id)\(on))\(said)")
        case .outOfMemory: return .end(reason: "used more than its ram and was killed (job \(job.id)\(on))\(said)")
        case .cancelled:
            if stopping { return .end(reason: "stopped: its priority was set to 0 (job \(job.id) cancelled)") }
            return .end(reason: "its job \(job.id) was cancelled outside cloud-dispatch\(said)")
        case .nodeFail: return .interrupted(reason: "its node failed (job \(job.id)\(on))\(said)")
        case .preempted: return .interrupted(reason: "preempted by the executor backend (job \(job.id)\(on))\(said)")
        case .lost: return .retry(reason: "the executor backend lost track of job \(job.id)\(said)")
        }
    }
}
