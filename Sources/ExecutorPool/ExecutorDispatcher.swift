import DriverHost
import Foundation
import Logging
import Queue
import Scheduler
import Synchronization
import WorkerPool

/// A dispatcher whose pool is an executor backend (a Slurm cluster, this machine) instead of VMs.
/// The host keeps every policy — queue order, locks, limits, attempts, results, restart recovery;
/// the backend reports capacity and runs jobs. `tick(now:)` is one round: learn what the backend
/// says of our jobs (reconcile), plan against its free capacity (`ExecutorPass`), carry it out.
///
///     let dispatcher = ExecutorDispatcher(id: "prod-1", store: store, backend: backend, settings: .init(), logger: logger)
///     await DispatchLoop(dispatcher: dispatcher, pollInterval: 5).run(wakeups: store.changes())
public final class ExecutorDispatcher: Sendable {
    public struct Settings: Sendable {
        /// Partitions, submit and job limits (see `ExecutorPass.Settings`).
        public var pass = ExecutorPass.Settings()
        /// How long a cancelled job may take to stop after TERM before it is killed.
        public var cancelGrace: Duration = .seconds(30)
        /// Every backend call is given up on after this long (the round goes on).
        public var callTimeout: Duration = .seconds(60)
        /// Prefix of the tags on this dispatcher's jobs.
        public var tagPrefix = "cloud-dispatch-"
        /// The bytes of a job's output kept as the container's log, when the backend has them.
        public var logTailBytes = 64 * 1024
        /// Where the pool's numbers go; nil: nowhere.
        public var metrics: ExecutorMetrics?

        public init() {}
    }

    public let id: String
    let store: any ContainerStore
    public let backend: any ExecutorBackend
    let settings: Settings
    let logger: Logger
    let tags: JobTags
    /// Containers this process locked that have no job yet: their submit is (re)tried with the
    /// same token. One Locked by us but not in here was locked before a restart.
    let lockedHere = Mutex<Set<String>>([])
    /// Jobs asked to stop, so a cancel is sent once, not every round.
    let cancelsSent = Mutex<Set<String>>([])
    /// The last round's view, for the operator (queue, explain, instances, health).
    let lastRound = Mutex(RoundView())
    /// Whether the backend can return a job's output.
    let hasLogTail = Mutex<Bool?>(nil)
    /// The current run's token of each container this dispatcher holds, read once from its full
    /// record (a round reads only summaries: the queue may be large). Only this dispatcher's own
    /// events change a held container's token, and each of them drops the entry (`apply`).
    let runTokens = Mutex<[String: String]>([:])
    /// Queued containers and those this dispatcher holds, as the last round read them: a round
    /// reads only what changed since.
    let activeQueue: ActiveQueueReader<ContainerSummary>
    /// Whether the last round read the whole active queue, and how many containers it read.
    private let lastQueueRead = Mutex((fullRead: false, rows: 0))
    public var lastRead: (fullRead: Bool, rows: Int) { lastQueueRead.withLock { $0 } }

    struct RoundView: Sendable {
        var demands: [ContainerDemand] = []
        var statuses: [String: String] = [:]
        var jobs: [BackendJob] = []
        var partitions: [PartitionCapacity] = []
        /// What failed last: nil when the last list and capacity calls answered.
        var problem: String?
    }

    /// Drain mode: this dispatcher finishes what its id holds and submits nothing (a survivor
    /// running the jobs of a dispatcher it took over). Queued containers are not read; its jobs
    /// are adopted, recorded as they end, and its stale locks given back.
    public let drainOnly: Bool
    /// Drain mode: the last round found nothing left (no container held, no job listed).
    private let emptied = Mutex(false)
    public var isDrained: Bool { emptied.withLock { $0 } }

    public init(
        id: String, store: any ContainerStore, backend: any ExecutorBackend, settings: Settings, logger: Logger, drainOnly: Bool = false
    ) {
        self.id = id
        self.store = store
        self.backend = backend
        self.settings = settings
        self.logger = logger
        self.tags = JobTags(prefix: settings.tagPrefix)
        self.drainOnly = drainOnly
        self.activeQueue = ActiveQueueReader(dispatcher: id, drainOnly: drainOnly)
    }

    /// One round. Failures of single steps are logged and retried on the next round; nothing here
    /// gives up on a container without recording why.
    public func tick(now: Double) async {
        let jobs: [BackendJob]
        do {
            let filter = [tags.dispatcherKey: id]
            jobs = try await call("list") { [backend] () async throws(DriverError) in try await backend.list(tags: filter) }
        } catch {
            // Without the jobs no container can be judged: planning now could submit a second copy.
            note(problem: "cannot list jobs: \(error)")
            settings.metrics?.roundFailed("list")
            return
        }
        let containers: [ContainerSummary]
        do {
            let read = try await activeQueue.read(from: store, now: now)
            containers = read.containers
            lastQueueRead.withLock { $0 = (read.fullRead, read.rows) }
        } catch {
            if Task.isCancelled { return }
            logger.error("cannot read the queue; skipping this round", metadata: ["error": "\(error)"])
            return
        }
        var round = await reconcile(containers, jobs: jobs, now: now)
        if drainOnly {  // nothing is planned: what the id holds only ends
            emptied.withLock { $0 = containers.isEmpty && jobs.isEmpty }
            lastRound.withLock { $0 = RoundView(demands: round.demands, statuses: round.statuses, jobs: jobs) }
            return
        }
        let capacity: [PartitionCapacity]
        do {
            capacity = try await call("capacity") { [backend] () async throws(DriverError) in try await backend.capacity() }
        } catch {
            note(problem: "cannot read capacity: \(error)")
            settings.metrics?.roundFailed("capacity")
            for d in round.demands where d.state == .queued || d.state == .locked {
                round.statuses[d.uuid] = "waiting: the executor backend does not report its capacity (\(error.errorClass.name))"
            }
            await recordStatuses(round.statuses, containers: containers)
            lastRound.withLock { $0 = RoundView(demands: round.demands, statuses: round.statuses, jobs: jobs, problem: $0.problem) }
            return
        }
        let plan = ExecutorPass.plan(containers: round.demands, partitions: capacity.map(Self.partition), settings: settings.pass)
        let statuses = round.statuses.merging(plan.statuses) { jobStatus, _ in jobStatus }
        await carryOut(plan, statuses: statuses, containers: containers)
        lastRound.withLock { $0 = RoundView(demands: round.demands, statuses: statuses, jobs: jobs, partitions: capacity) }
        settings.metrics?.roundEnded(jobs: jobs, waiting: round.demands.count { $0.state == .queued || $0.state == .locked })
    }

    /// A backend call, bounded by the call timeout.
    func call<T: Sendable>(_ operation: String, _ body: @escaping @Sendable () async throws(DriverError) -> T) async throws(DriverError) -> T {
        try await BoundedCall.run(settings.callTimeout, backend: backend.executorID, operation: operation, body)
    }

    func note(problem: String) {
        logger.warning("executor backend call failed; skipping this round", metadata: ["problem": "\(problem)"])
        lastRound.withLock { $0.problem = problem }
    }

    static func partition(_ p: PartitionCapacity) -> ExecutorPass.Partition {
        ExecutorPass.Partition(
            name: p.name, freeVCPUs: p.freeVCPUs, freeRAM: p.freeRAM, maxJobVCPUs: p.maxJobVCPUs, maxJobRAM: p.maxJobRAM,
            maxRunTime: p.maxRunTime)
    }

    /// The current run's token of a container this dispatcher holds; nil when the queue cannot say now.
    func runToken(of uuid: String) async -> String? {
        if let known = runTokens.withLock({ $0[uuid] }) { return known }
        do {
            let c = try await store.get(uuid)
            let token = JobIdentity.token(of: c)
            runTokens.withLock { $0[uuid] = token }
            return token
        } catch {
            logger.warning("cannot read a container held by this dispatcher", metadata: ["container": "\(uuid)", "error": "\(error)"])
            return nil
        }
    }

    /// The scheduler's view of one container.
    static func demand(of c: ContainerSummary, state: ContainerDemand.State) -> ContainerDemand {
        var d = ContainerDemand(
            uuid: c.uuid, state: state, priority: c.priority, createdAt: c.createdAt.timeIntervalSince1970,
            needs: Resources(
                vcpus: c.runtimeConstraints.vcpus, ram: c.runtimeConstraints.ram,
                scratch: c.runtimeConstraints.scratch, gpus: c.runtimeConstraints.gpu.count),
            preemptible: c.schedulingParameters.preemptible, shouldStop: c.priority == 0)
        d.maxRunTime = c.schedulingParameters.maxRunTime
        return d
    }
}

extension ExecutorDispatcher: DispatchRounds {
    public func runRound(now: Double) async { await tick(now: now) }
    public func roundSkipped() {}
}
