import DriverHost
import Queue
import Scheduler
import Units
import WorkerPool

/// What an operator sees of an executor pool, from the last round: its jobs (the backend's
/// placements), the queue in the scheduler's order, each partition judged for a container, and
/// the backend's health.
extension ExecutorDispatcher {
    /// This dispatcher's jobs as the backend last listed them, by job id.
    public var placements: [BackendJob] { lastRound.withLock { $0.jobs }.sorted { $0.id < $1.id } }

    /// The scheduler's view of the queue after the last round, in its order.
    public var queue: [ScheduledContainer] {
        let view = lastRound.withLock { $0 }
        let jobs = Dictionary(view.jobs.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let partitions = view.partitions.map(Self.partition)
        return QueueOrder.sorted(view.demands).map { d in
            let state: String
            switch d.state {
            case .queued: state = "Queued"
            case .locked: state = "Locked"
            case .running(let jobID):
                let job = jobs[jobID]
                state = job?.state == .running ? "Running as job \(jobID) on \(job?.where ?? "")" : "Pending as job \(jobID)"
            }
            let eligible = partitions.filter { ExecutorPass.fitsEver(d, $0) }.map(\.name)
            return ScheduledContainer(uuid: d.uuid, state: state, priority: d.priority, eligibleTypes: eligible, status: view.statuses[d.uuid])
        }
    }

    /// Each allowed partition judged for `c`: whether it could ever take it, and why not.
    public func partitionVerdicts(for c: Container) -> [(name: String, eligible: Bool, reason: String)] {
        let reported = lastRound.withLock { $0.partitions }.map(Self.partition)
        let d = Self.demand(of: ContainerSummary(c), state: .queued)
        return ExecutorPass.allowed(reported, settings.pass).map { p in
            let fits = ExecutorPass.fitsEver(d, p)
            let reason =
                fits
                ? "fits; \(p.freeVCPUs) vCPUs, \(Units.brief(bytes: p.freeRAM)) free now"
                : "takes at most \(p.maxJobVCPUs) vCPUs, \(Units.brief(bytes: p.maxJobRAM))"
                    + (p.maxRunTime == 0 ? "" : ", \(Units.brief(seconds: p.maxRunTime))") + " a job"
            return (p.name, fits, reason)
        }
    }

    /// The backend's part of /_health: "ok", or the last failed list or capacity call.
    public var backendHealth: String { lastRound.withLock { $0.problem }.map { "failing: \($0)" } ?? "ok" }

    /// The store this dispatcher reads (for an operator's questions about one container).
    public var queueStore: any ContainerStore { store }
}

extension ExecutorDispatcher {
    /// The tag key naming a job's container.
    public var containerTag: String { tags.containerKey }
}
