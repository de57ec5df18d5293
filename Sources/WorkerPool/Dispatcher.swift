import Foundation
import Logging
import Queue
import Scheduler
import Synchronization

/// One dispatcher: its queue, its pool, its scheduling policy. `tick(now:)` is one round —
/// learn what happened, plan, carry the plan out — and is all there is to the loop: production
/// calls it on queue wake-ups and a timer, the simulator after each step of its virtual clock.
///
///     let dispatcher = Dispatcher(id: "local", store: store, pool: pool, types: types, limits: limits, logger: logger)
///     for await _ in wakeups { await dispatcher.tick(now: clock.now) }
public final class Dispatcher: Sendable {
    public let id: String
    let store: any ContainerStore
    public let pool: WorkerPool
    let logger: Logger
    public let metrics: DispatchMetrics?
    /// Types and limits: replaced whole by `reconfigure`, read once per round.
    private let policy: Mutex<(eligibility: Eligibility, limits: Limits)>
    public var eligibility: Eligibility { policy.withLock { $0.eligibility } }
    public var limits: Limits { policy.withLock { $0.limits } }
    /// Results the store did not take yet (it was unreachable): kept and offered again, so a
    /// finished container is never mistaken for a lost one and run again.
    let unrecorded = Mutex<[(FinishedContainer, cost: Double)]>([])
    /// The last round's view of the queue and what it told each container, from which the
    /// operator's view is built when asked for (not every round: at 100,000 containers that
    /// would be most of a round's work).
    private let lastRound = Mutex<(demands: [ContainerDemand], statuses: [String: String])>(([], [:]))
    /// Containers this process locked. A container Locked by this dispatcher id but not in here
    /// was locked before a restart: its start may have reached a worker not heard from yet.
    let lockedHere = Mutex<Set<String>>([])
    /// Whether the types' quota groups were asked of the driver since the last (re)configuration.
    private let quotaGroupsLearned = Mutex(false)
    /// Drain mode: this dispatcher finishes what its id holds and places nothing new (a survivor
    /// running the instance set of a dispatcher it took over). Queued containers are not read,
    /// every worker is drained, so each is shut down once its containers end.
    public let drainOnly: Bool
    /// Drain mode: the last round found nothing left (no container held, no instance, no create).
    private let emptied = Mutex(false)
    /// The active queue as the last round read it; a round reads only what changed since.
    private let activeQueue: ActiveQueueReader<ActiveContainer>
    /// Where the last round spent its time.
    private let timings = Mutex(RoundTimings())
    /// Held while a round carries out its plan and while arrivals are placed between rounds.
    let gate = AsyncGate()
    /// What arrivals between rounds may use, and what they took (see `placeArrivals`).
    let arrivals = Mutex(Arrivals())
    public var lastRoundTimings: RoundTimings { timings.withLock { $0 } }

    public init(
        id: String, store: any ContainerStore, pool: WorkerPool, types: [InstanceType], maxPriceFactor: Double = 1.5,
        limits: Limits, logger: Logger, metrics: DispatchMetrics? = nil, drainOnly: Bool = false
    ) {
        self.drainOnly = drainOnly
        self.id = id
        self.store = store
        self.pool = pool
        self.policy = Mutex((Eligibility(types: types, maxPriceFactor: maxPriceFactor), limits))
        self.logger = logger
        self.metrics = metrics
        self.activeQueue = ActiveQueueReader(dispatcher: id, drainOnly: drainOnly)
    }

    /// The next round reads the whole active queue (benchmarks time that round).
    public func readWholeQueueNextRound() { activeQueue.readWholeQueueNextRound() }

    /// New instance types, limits and pool settings (a configuration reload), from the next
    /// round on. Instances and containers stay; those of a type no longer listed are drained.
    public func reconfigure(types: [InstanceType], maxPriceFactor: Double, limits: Limits, poolSettings: WorkerPool.Settings) async {
        await pool.reconfigure(settings: poolSettings, types: types)
        policy.withLock { $0 = (Eligibility(types: types, maxPriceFactor: maxPriceFactor), limits) }
        quotaGroupsLearned.withLock { $0 = false }
        arrivals.withLock { $0.room = nil }  // planned under the old types: the next round makes new room
    }

    /// One round; its creates and destroys are sent at its end, and not waited for (see
    /// `WorkerPool.inBackground`).
    @discardableResult
    public func tick(now: Double) async -> Plan {
        let plan = await round(now: now)
        await pool.sendCalls()
        return plan
    }

    /// A round, then its cloud calls one after another, answered and applied. The simulator runs
    /// this: its cloud answers at once, its clock must not move past an answer not yet seen, and
    /// calls in a fixed order replay the same for a seed.
    @discardableResult
    public func tickAndSettle(now: Double) async -> Plan {
        let plan = await round(now: now)
        await pool.callsSettled()
        return plan
    }

    /// Learn, plan, carry out. Failures of single steps are logged and retried on the next round;
    /// nothing here gives up on a container without recording why.
    func round(now: Double) async -> Plan {
        var timing = RoundTimings()
        let clock = ContinuousClock()
        let roundStart = clock.now
        var lap = roundStart
        func split() -> Duration {
            let previous = lap
            lap = clock.now
            return lap - previous
        }
        defer {
            timing.total = clock.now - roundStart
            timings.withLock { $0 = timing }
        }
        if !quotaGroupsLearned.withLock({ $0 }) { await learnQuotaGroups() }
        let lost = await pool.sync(now: now)
        timing.list = split()
        await pool.retryIntents(now: now, maxConcurrent: limits.maxConcurrentCreates)  // creates whose answer was lost, before any new one
        let probed = await pool.probeAll(now: now)
        timing.probe = split()
        let ended = probed + lost.map { FinishedContainer(uuid: $0, exitCode: nil, log: "") }
        await pool.retryShutdowns(now: now)
        let retry: [(FinishedContainer, cost: Double)] = unrecorded.withLock { pending in
            let all = pending
            pending = []
            return all
        }
        for (finished, cost) in retry { await record(finished, cost: cost) }
        for finished in ended { await settle(finished, now: now) }
        timing.settle = split()

        let containers: [ActiveContainer]
        await gate.run { arrivals.withLock { $0.placedSinceRead = ([], []) } }  // the read below sees those before
        do { (containers, timing.fullRead, timing.rowsRead) = try await activeContainers(now: now) } catch {
            if Task.isCancelled { return Plan() }  // the dispatcher is stopping: not a queue fault
            logger.error("cannot read the queue; skipping this round", metadata: ["error": "\(error)"])
            return Plan()
        }
        timing.read = split()
        let demands = await reconcile(containers, now: now)
        timing.reconcile = split()
        if drainOnly { await drainEveryWorker(heldContainers: containers.count, now: now) }
        let (eligibility, limits) = policy.withLock { $0 }
        var (plan, room) = SchedulingPass.planAndRoom(
            containers: demands, workers: await pool.views(), eligibility: eligibility, limits: limits,
            backoff: await pool.backoff, creating: await pool.createCallsInFlight,
            callSize: await pool.settings.maxCreateCount, now: now)
        timing.plan = split()
        await gate.run {
            // Arrivals placed since the read went where this plan did not know: it yields to them.
            let placed = arrivals.withLock { $0.placedSinceRead }
            plan = plan.yielding(toArrivals: placed.containers, on: placed.workers)
            await carryOut(plan, now: now)
            room.close(placed.workers.union(plan.shutdowns.map(\.id)).union(plan.drains))
            let cursor = activeQueue.cursor
            arrivals.withLock { $0.room = (room, cursor) }
        }
        await writeStatuses(statusesToWrite(plan.statuses, over: containers))
        timing.carryOut = split()
        lastRound.withLock { $0 = (demands, plan.statuses) }
        for (uuid, worker) in await pool.overdueStops(now: now) {
            await give(
                up: uuid, "did not stop within \(Int(pool.settings.termTimeout))s of being asked to; its instance \(worker) is drained",
                requeue: false)
        }
        await pool.shutDownStuckWorkers(now: now)
        if let metrics {
            metrics.roundEnded(now: now, snapshot: await pool.snapshot(now: now), demands: demands, plan: plan, limits: limits)
        }
        return plan
    }

    /// Drain mode: every worker takes nothing new and is shut down once idle; the set counts as
    /// empty once the cloud lists none of its instances and the queue holds none of its containers.
    private func drainEveryWorker(heldContainers: Int, now: Double) async {
        for worker in await pool.views() where worker.idleBehavior != .drain { await pool.setBehavior(worker.id, .drain) }
        let (known, instances, creating) = (await pool.allWorkersKnown, await pool.instanceCount, await pool.createCallsInFlight)
        let empty = heldContainers == 0 && known && instances == 0 && creating == 0
        emptied.withLock { $0 = empty }
    }

    /// Drain mode: nothing of this id is left (see `drainOnly`).
    public var isDrained: Bool { emptied.withLock { $0 } }

    /// Types the configuration left in no quota group take the driver's (see `withDriverQuotaGroups`).
    private func learnQuotaGroups() async {
        let current = eligibility
        let types = await pool.withDriverQuotaGroups(current.types)
        policy.withLock { $0.eligibility = Eligibility(types: types, maxPriceFactor: current.maxPriceFactor) }
        quotaGroupsLearned.withLock { $0 = true }
    }

    /// The scheduler's view of the queue after the last round, in its order.
    public var queue: [ScheduledContainer] {
        let (demands, statuses) = lastRound.withLock { $0 }
        let eligibility = self.eligibility
        return QueueOrder.sorted(demands).map { d -> ScheduledContainer in
            let eligible: [String] = if case .eligible(let types) = eligibility.answer(for: d) { types.map(\.name) } else { [] }
            let state =
                switch d.state {
                case .queued: "Queued"
                case .locked: "Locked"
                case .running(let worker): "Running on \(worker)"
                }
            return ScheduledContainer(uuid: d.uuid, state: state, priority: d.priority, eligibleTypes: eligible, status: statuses[d.uuid])
        }
    }

    /// An operator's kill of an instance: shut down now, its containers back to the queue.
    public func kill(instance id: String, reason: String, now: Double) async {
        for uuid in await pool.kill(id, reason: "killed by an operator: \(reason)", now: now) {
            _ = await pool.takeEndedPlacement(of: uuid)
            await give(up: uuid, "its instance was killed by an operator: \(reason)", requeue: true)
        }
        await pool.sendCalls()  // now, not at the end of the next round
    }

    /// What a round keeps of an active container (read as a `ContainerSummary`: the full
    /// record, with command, environment and log, is read only for the few that start).
    struct ActiveContainer: ActiveQueueEntry, Hashable {
        var state: ContainerState
        var schedulingStatus: String?
        /// The scheduler's view, its state still to be settled against the workers.
        var demand: ContainerDemand
        var uuid: String { demand.uuid }

        init(_ c: ContainerSummary) {
            state = c.state
            schedulingStatus = c.schedulingStatus
            demand = Dispatcher.demand(of: c, state: .queued)
        }
    }

    /// Queued containers (none in drain mode), and those this dispatcher holds (Locked or
    /// Running by it), in uuid order (see `ActiveQueueReader`).
    func activeContainers(now: Double) async throws(QueueError) -> (containers: [ActiveContainer], fullRead: Bool, rows: Int) {
        try await activeQueue.read(from: store, now: now)
    }

    /// What a worker said of a container that ended: a result to record, a reason to cancel
    /// it for, or nothing (its runner died) — then it goes back to the queue.
    func settle(_ finished: FinishedContainer, now: Double) async {
        if unrecorded.withLock({ $0.contains { $0.0.uuid == finished.uuid } }) { return }  // already waiting for the store
        if let reason = finished.reason {
            _ = await pool.takeEndedPlacement(of: finished.uuid)
            await give(up: finished.uuid, reason, requeue: false)
            await pool.release(finished.uuid)
        } else if finished.exitCode == nil {
            _ = await pool.takeEndedPlacement(of: finished.uuid)
            await give(up: finished.uuid, "its runner ended without a result", requeue: true)
            await pool.release(finished.uuid)
        } else {
            await record(finished, cost: await costSoFar(finished.uuid, now: now))
        }
    }

    /// The scheduler's view of one container.
    static func demand(of c: ContainerSummary, state: ContainerDemand.State) -> ContainerDemand {
        ContainerDemand(
            uuid: c.uuid, state: state, priority: c.priority, createdAt: c.createdAt.timeIntervalSince1970,
            needs: Resources(
                vcpus: c.runtimeConstraints.vcpus, ram: c.runtimeConstraints.ram,
                scratch: c.runtimeConstraints.scratch, gpus: c.runtimeConstraints.gpu.count),
            gpuStack: c.runtimeConstraints.gpu.stack, gpuVRAM: c.runtimeConstraints.gpu.vram,
            preemptible: c.schedulingParameters.preemptible, allowedTypes: c.schedulingParameters.instanceTypes,
            shouldStop: c.priority == 0)
    }

    /// Each configured type judged for `c` (eligible or why not, and any back-off on it now).
    public func verdicts(for c: Container, now: Double) async -> [TypeVerdict] {
        eligibility.verdicts(for: Self.demand(of: ContainerSummary(c), state: .queued), backoff: await pool.backoff, now: now)
    }

    /// The store this dispatcher reads (for an operator's questions about one container).
    public var queueStore: any ContainerStore { store }

    /// Records a container's result; keeps it for the next round if the store is unreachable.
    /// A result the queue refuses (the container was cancelled or finished meanwhile) is
    /// dropped: the worker may forget it either way.
    func record(_ finished: FinishedContainer, cost: Double) async {
        let complete = Event.complete(by: id, exitCode: finished.exitCode ?? -1, log: finished.log, cost: cost)
        do {
            _ = try await store.apply(complete, to: finished.uuid)
        } catch {
            if case .unavailable = error {
                logger.warning("could not record a result; will retry", metadata: ["container": "\(finished.uuid)", "error": "\(error)"])
                unrecorded.withLock { $0.append((finished, cost)) }
                return
            }
            if case .invalidTransition(_, from: .locked, _) = error, let instance = await pool.reporter(of: finished.uuid),
                (try? await store.apply(.start(by: id, instance: instance), to: finished.uuid)) != nil
            {
                // Started, and ended, before a restart that lost the record of its start: it
                // ran once, so its result stands (else the stale-lock rule would run it again).
                return await record(finished, cost: cost)
            }
            logger.warning("a result the queue refused", metadata: ["container": "\(finished.uuid)", "error": "\(error)"])
        }
        await pool.release(finished.uuid)
    }

    /// Requeues (bounded by the attempt budget, after which the store cancels it) or cancels.
    func give(up uuid: String, _ reason: String, requeue: Bool) async {
        do {
            let c = try await store.get(uuid)
            switch c.state {
            case .running where requeue: _ = try await store.apply(.requeue(by: id, reason: reason), to: uuid)
            case .locked: _ = try await store.apply(.unlock(by: id, reason: reason), to: uuid)
            case .queued, .complete, .cancelled: break
            default: _ = try await store.apply(.cancel(reason: reason), to: uuid)
            }
        } catch {
            logger.warning("could not give a container back", metadata: ["container": "\(uuid)", "error": "\(error)"])
        }
    }

    /// Price × time on the instance it ran on.
    func costSoFar(_ uuid: String, now: Double) async -> Double {
        guard let p = await pool.takeEndedPlacement(of: uuid),
            let price = eligibility.types.first(where: { $0.name == p.type })?.price
        else { return 0 }
        return price * max(0, now - p.startedAt) / 3600
    }
}
