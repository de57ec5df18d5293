import Units

/// One planning pass for an executor backend, as a pure function: which waiting containers to
/// submit now and to which partition, which can never run there, and why the others wait.
///
///     let plan = ExecutorPass.plan(containers: demands, partitions: reported, settings: settings)
///
/// Order of service is the queue's (`QueueOrder`): Locked before Queued, then priority, then
/// submit time. The backend's reported free room is the budget: what this pass plans is taken off
/// it, so a round never submits more than the backend said it could start. A container the first
/// choice has no room for takes the next allowed partition with room (partitions in preference
/// order); a smaller container further back may use room a bigger one cannot.
public enum ExecutorPass {
    /// One partition as the backend reported it (`PartitionCapacity`, without the totals).
    public struct Partition: Sendable, Hashable {
        public var name: String
        public var freeVCPUs: Int
        public var freeRAM: Int64
        public var maxJobVCPUs: Int
        public var maxJobRAM: Int64
        /// Seconds; 0: no limit.
        public var maxRunTime: Int

        public init(name: String, freeVCPUs: Int, freeRAM: Int64, maxJobVCPUs: Int, maxJobRAM: Int64, maxRunTime: Int = 0) {
            self.name = name
            self.freeVCPUs = freeVCPUs
            self.freeRAM = freeRAM
            self.maxJobVCPUs = maxJobVCPUs
            self.maxJobRAM = maxJobRAM
            self.maxRunTime = maxRunTime
        }
    }

    public struct Settings: Sendable, Hashable {
        /// Partitions this dispatcher may use, in order of preference; empty: every reported one,
        /// in the backend's order.
        public var partitions: [String]
        /// Submits one round may make (each is a call to the backend).
        public var maxSubmitsPerRound: Int
        /// Jobs of this dispatcher at once (submitted or running); nil: no limit.
        public var maxJobs: Int?

        public init(partitions: [String] = [], maxSubmitsPerRound: Int = 32, maxJobs: Int? = nil) {
            self.partitions = partitions
            self.maxSubmitsPerRound = max(1, maxSubmitsPerRound)
            self.maxJobs = maxJobs
        }
    }

    public struct Submit: Sendable, Hashable {
        public var uuid: String
        public var partition: String
        /// Queued when planned: lock it first, and submit only if the lock succeeds.
        public var needsLock: Bool

        public init(uuid: String, partition: String, needsLock: Bool) {
            self.uuid = uuid
            self.partition = partition
            self.needsLock = needsLock
        }
    }

    public struct Plan: Sendable, Hashable {
        public var submits: [Submit] = []
        /// Containers no allowed partition could ever take, with the reason.
        public var cancels: [Scheduler.Plan.Reasoned] = []
        /// Why each waiting container waits.
        public var statuses: [String: String] = [:]

        public init() {}
    }

    /// `containers`: Queued ones, and those this dispatcher holds; a Locked one here has no job
    /// (one with a job is running or pending in the backend and passed as `.running`).
    public static func plan(containers: [ContainerDemand], partitions reported: [Partition], settings: Settings) -> Plan {
        var plan = Plan()
        var partitions = allowed(reported, settings)
        var jobs = containers.count { if case .running = $0.state { true } else { false } }
        for c in QueueOrder.sorted(containers) {
            if case .running = c.state { continue }
            if c.priority == 0 {
                plan.statuses[c.uuid] = "priority 0: not run until its priority is raised"
                continue
            }
            if partitions.isEmpty {  // a setup problem (or a backend answering nothing): nobody is judged too big
                plan.statuses[c.uuid] = noPartition(reported, settings)
                continue
            }
            let fitting = partitions.indices.filter { fitsEver(c, partitions[$0]) }
            if fitting.isEmpty {
                if c.state == .queued { plan.cancels.append(.init(id: c.uuid, reason: tooBig(c, partitions, settings))) }
                continue
            }
            if let maxJobs = settings.maxJobs, jobs >= maxJobs {
                plan.statuses[c.uuid] = "waiting: \(maxJobs) jobs of this dispatcher already submitted (executor max_jobs)"
                continue
            }
            if plan.submits.count >= settings.maxSubmitsPerRound {
                plan.statuses[c.uuid] = "waiting for its turn: \(settings.maxSubmitsPerRound) submits a round"
                continue
            }
            guard let i = fitting.first(where: { fitsNow(c, partitions[$0]) }) else {
                plan.statuses[c.uuid] = waitingForRoom(c, partitions[fitting[0]])
                continue
            }
            partitions[i].freeVCPUs -= c.needs.vcpus
            partitions[i].freeRAM -= c.needs.ram
            jobs += 1
            plan.submits.append(Submit(uuid: c.uuid, partition: partitions[i].name, needsLock: c.state == .queued))
            plan.statuses[c.uuid] = "submitting to partition \(partitions[i].name)"
        }
        return plan
    }

    /// The reported partitions this dispatcher may use, in its order of preference.
    public static func allowed(_ reported: [Partition], _ settings: Settings) -> [Partition] {
        if settings.partitions.isEmpty { return reported }
        return settings.partitions.compactMap { name in reported.first { $0.name == name } }
    }

    /// Whether the partition could ever take it (one job's limits, run time included: a
    /// container without a run-time limit fits any partition; the partition's own limit applies).
    public static func fitsEver(_ c: ContainerDemand, _ p: Partition) -> Bool {
        c.needs.vcpus <= p.maxJobVCPUs && c.needs.ram <= p.maxJobRAM && c.needs.gpus == 0
            && (p.maxRunTime == 0 || c.maxRunTime <= p.maxRunTime)
    }

    static func fitsNow(_ c: ContainerDemand, _ p: Partition) -> Bool {
        c.needs.vcpus <= p.freeVCPUs && c.needs.ram <= p.freeRAM
    }

    static func waitingForRoom(_ c: ContainerDemand, _ p: Partition) -> String {
        "waiting for room on partition \(p.name): needs \(c.needs.vcpus) vCPUs, \(Units.brief(bytes: c.needs.ram)); "
            + "\(max(0, p.freeVCPUs)) vCPUs, \(Units.brief(bytes: max(0, p.freeRAM))) free"
    }

    static func noPartition(_ reported: [Partition], _ settings: Settings) -> String {
        if settings.partitions.isEmpty { return "waiting: the executor backend reports no partition" }
        return "waiting: the executor backend reports none of the configured partitions (\(settings.partitions.joined(separator: ", "))); "
            + "it has \(reported.map(\.name).joined(separator: ", "))"
    }

    /// Why no partition can take it, naming each partition's limits.
    static func tooBig(_ c: ContainerDemand, _ partitions: [Partition], _ settings: Settings) -> String {
        let runTime = c.maxRunTime == 0 ? "" : ", max_run_time \(Units.brief(seconds: c.maxRunTime))"
        let gpus = c.needs.gpus == 0 ? "" : ", \(c.needs.gpus) GPUs (an executor backend offers none)"
        let needs = "needs \(c.needs.vcpus) vCPUs, \(Units.brief(bytes: c.needs.ram))\(runTime)\(gpus)"
        let limits = partitions.map { p in
            "\(p.name): at most \(p.maxJobVCPUs) vCPUs, \(Units.brief(bytes: p.maxJobRAM))"
                + (p.maxRunTime == 0 ? "" : ", \(Units.brief(seconds: p.maxRunTime))")
        }
        return "\(needs); more than any partition allows (\(limits.joined(separator: "; ")))"
    }
}
