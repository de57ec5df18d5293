import DriverHost
import Logging
import Queue
import Scheduler
import Units

/// The instances of one instance set and what runs on them. It learns the cloud's view from the
/// driver (`sync`), the workers' view from the executor (`probeAll`), and carries out the
/// instance side of a plan (create, start, stop, shut down). Times are seconds on the caller's
/// clock, so the simulator's virtual clock and the wall clock drive it alike.
public actor WorkerPool {
    public struct Settings: Sendable {
        public var instanceSetID: String
        /// Prefix of the tags this dispatcher puts on its instances.
        public var tagPrefix = "cloud-dispatch-"
        public var image: String?
        public var initScript: String?
        public var sshPublicKey: String?
        /// An instance that never answers within this long after it appeared is shut down.
        public var bootTimeout: Double = 600
        /// A ready instance that stops answering for this long is shut down.
        public var probeTimeout: Double = 600
        /// Destroy is sent again while the instance is still listed this long after.
        public var shutdownRetry: Double = 60
        /// An instance created this recently may be missing from a list (eventual consistency).
        public var listGrace: Double = 60
        /// Least time between two cloud listings (0: every round). Clouds bill and throttle
        /// list calls; workers are probed far more often than the cloud is asked.
        public var syncInterval: Double = 0
        /// After the first listing, list beside the rounds instead of inside them: a round sends
        /// the listing with its cloud calls and a later round applies the answer (see `sync`).
        /// `serve` does; the simulator's tests mostly list inside the round.
        public var listOffRound = false
        /// Least time between two probes of the workers (0: every round).
        public var probeInterval: Double = 0
        /// Probe beside the rounds instead of inside them: a round sends the probes with its
        /// cloud calls and a later round applies the answers (see `probeAll`). `serve` does.
        public var probeOffRound = false
        /// A per-create secret is put in the init script and in a tag, so the executor can tell
        /// the instance it reaches over SSH is the one the cloud made (when the driver reports no
        /// host key). `initCommand` is an extra shell line run after it.
        public var instanceSecrets = false
        public var initCommand: String?
        /// One token bucket paces every cloud call: this many a second, this many at once.
        public var cloudRate = 10.0
        public var cloudBurst = 20.0
        /// Instances per create call and ids per destroy call (the driver's capabilities; `use`).
        public var maxCreateCount = 1
        public var maxDestroyBatch = 1
        /// A container asked to stop that still runs this long after gets its worker drained.
        public var termTimeout: Double = 120
        /// Keep the token time of every cloud call in `cloudCalls.grants` (tests).
        public var recordCloudCalls = false
        /// Instances that did not boot, per hour and whatever their type, past which nothing is
        /// created (0: no ceiling; see `BootFailures`).
        public var maxBootFailuresPerHour = 0
        /// A create whose answer was lost is sent again (same token) this often, and given up
        /// after `intentExpiry` without an answer.
        public var intentRetry: Double = 30
        public var intentExpiry: Double = 3600

        public init(instanceSetID: String) { self.instanceSetID = instanceSetID }

        public var setTag: String { tagPrefix + "instance-set" }
        var typeTag: String { tagPrefix + "instance-type" }
        var behaviorTag: String { tagPrefix + "idle-behavior" }
        public var secretTag: String { tagPrefix + "secret" }
    }

    struct Worker {
        var instance: Instance
        var typeName: String
        var state: WorkerView.State
        var behavior: WorkerView.IdleBehavior
        var appeared: Double
        var lastBusy: Double
        var lastAnswer: Double?
        /// Running containers and when they started (for their cost).
        var running: [String: Double] = [:]
        var gpus: [String: [Int]] = [:]
        var destroyedAt: Double?
        /// A destroy is on its way to the cloud: no new work lands here meanwhile.
        var destroying = false
        /// Why the last probe that tried did not reach it (the cause of a boot failure).
        var unreachableBecause: String?
        /// Billed at its first accepted destroy (a destroy sent again bills nothing).
        var billed = false
        var everRan = false
        /// Made by a create of this process (not adopted from an earlier one).
        var createdHere = false
    }

    /// What the instances cost: billed from the moment they appeared to their destroy.
    public struct Accounting: Sendable {
        public var instancesCreated = 0
        /// Destroyed without ever running a container (churn).
        public var destroyedUnused = 0
        /// The part of `billedSeconds` those instances account for.
        public var unusedSeconds = 0.0
        public var billedSeconds = 0.0
        public var billedCost = 0.0
    }

    public private(set) var settings: Settings
    let instanceSet: any InstanceSet
    let executor: any WorkerExecutor
    var types: [String: InstanceType]
    let logger: Logger
    var workers: [String: Worker] = [:]
    /// Where containers that just ended ran, until the dispatcher has recorded their cost.
    var ended: [String: (type: String, worker: String, startedAt: Double)] = [:]
    /// Which worker reported a result, until the dispatcher has recorded it (`release`).
    var reportedBy: [String: String] = [:]
    var lastSync = -Double.infinity
    /// A listing sent off the round (`Settings.listOffRound`), under way or answered.
    var listing = Listing.none
    /// Why the last cloud listing failed; nil when it worked (for /_health).
    public internal(set) var lastListError: String?
    var listedOnce = false
    var lastProbe = -Double.infinity
    /// Probes sent off the round (`Settings.probeOffRound`), under way or answered.
    var probing = Probing.none
    /// Containers started while probes were out (arrivals between rounds, and every start of
    /// the rounds before the answers of probes sent off the round are applied): an answer sent
    /// before such a start does not list it, and must not make it "vanished".
    var startedDuringProbe: Set<String>?
    /// Every container a worker may be running: exactly those at the last `placements()` (each
    /// round), plus every start and adoption since. One that ended meanwhile is still here, so
    /// an arrival asking about it waits for the round (safe); one running is never missing.
    var mayBeRunning = Set<String>()
    public internal(set) var backoff = Backoff()
    var accounting = Accounting()
    let clock: any PoolClock
    var bucket: TokenBucket
    var calls = CloudCalls()
    /// Containers asked to stop, by uuid.
    var stopping: [String: StopRequest] = [:]
    /// Create calls not settled yet: under way, or their answer lost (the scheduling pass counts
    /// them against max_concurrent_creates; their instances count as booting).
    public var createCallsInFlight: Int { openIntents.count }
    /// Where create intents are recorded (the queue's store); nil: in memory only (tests).
    let intentLog: (any CreateIntentLog)?
    var openIntents: [String: OpenIntent] = [:]
    var intentsLoaded = false
    /// Creates and destroys under way (see `inBackground`), by a number of their own.
    var backgroundCalls: [Int: Task<Void, Never>] = [:]
    var queuedCalls: [CloudJob] = []
    var nextBackgroundID = 0

    public init(
        settings: Settings, instanceSet: any InstanceSet, executor: any WorkerExecutor, types: [InstanceType], logger: Logger,
        clock: any PoolClock = WallClock(), intents: (any CreateIntentLog)? = nil
    ) {
        self.settings = settings
        intentLog = intents
        self.clock = clock
        bucket = TokenBucket(rate: settings.cloudRate, burst: settings.cloudBurst)
        calls.keepGrants = settings.recordCloudCalls
        self.instanceSet = instanceSet
        self.executor = executor
        self.types = Dictionary(types.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.logger = logger
        backoff.boot.maxPerHour = settings.maxBootFailuresPerHour
    }

    /// New timeouts and intervals, and new types (a configuration reload). Types no longer
    /// configured are kept for the instances that still have them (their price, for the bill).
    public func reconfigure(settings: Settings, types: [InstanceType]) {
        self.settings = settings
        // The image, the network, the user or the credentials may be fixed: every type gets a new chance.
        backoff.configurationChanged()
        backoff.boot.maxPerHour = settings.maxBootFailuresPerHour
        let fresh = Dictionary(types.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.types = fresh.merging(self.types) { new, _ in new }
    }

    // MARK: What the scheduler sees

    public func views() -> [WorkerView] {
        // Built, then sorted: moving the pool's larger records while sorting took twice as long.
        workers.values.map { w in
            WorkerView(
                id: w.instance.id, typeName: w.typeName, state: w.destroying ? .shutdown : w.state, idleBehavior: w.behavior, lastBusy: w.lastBusy,
                gpuDevicesInUse: Set(w.gpus.values.flatMap { $0 }), fresh: !w.everRan)
        }.sorted { $0.id < $1.id } + pendingViews()
    }

    /// Which worker runs each running container, with its type and when it started there
    /// (all at once: one actor hop for the whole queue). Also sets `mayBeRunning` to exactly those.
    public func placements() -> [String: (worker: String, type: String, startedAt: Double)] {
        var all: [String: (worker: String, type: String, startedAt: Double)] = [:]
        for w in workers.values {
            for (uuid, at) in w.running { all[uuid] = (w.instance.id, w.typeName, at) }
        }
        mayBeRunning = Set(all.keys)
        return all
    }

    /// Where a container that just ended ran (asked once, when its result is recorded).
    public func takeEndedPlacement(of uuid: String) -> (type: String, worker: String, startedAt: Double)? {
        ended.removeValue(forKey: uuid)
    }

    func noteEnded(_ uuids: some Sequence<String>, on w: Worker) {
        for uuid in uuids { if let at = w.running[uuid] { ended[uuid] = (w.typeName, w.instance.id, at) } }
    }

    public var runningContainers: Set<String> { Set(workers.values.flatMap { $0.running.keys }) }

    /// The bill so far, live instances included up to `now`.
    public func accounting(now: Double) -> Accounting {
        var total = accounting
        for w in workers.values where w.destroyedAt == nil {
            total.billedSeconds += now - w.appeared
            total.billedCost += (types[w.typeName]?.price ?? 0) * (now - w.appeared) / 3600
        }
        return total
    }
    /// Whether every worker has answered at least once (until then, a container missing from
    /// every worker may still be on one that has not been asked yet).
    /// Needs one successful listing first: before it, the instances are not even known.
    public var allWorkersKnown: Bool { listedOnce && workers.values.allSatisfy { $0.state != .unknown } }
    public var instanceCount: Int { workers.count }
    /// The cloud calls made so far.
    public var cloudCalls: CloudCalls { calls }

    // MARK: Carrying out a plan

    /// Starts a container on a worker; returns the worker's instance type.
    @discardableResult
    public func start(_ launch: ContainerLaunch, on workerID: String, now: Double) async throws -> String {
        guard let w = workers[workerID], w.destroyedAt == nil, !w.destroying else { throw PoolError("worker \(workerID) is gone") }
        do {
            try await executor.start(launch, on: w.instance, now: now)
        } catch let unanswered as StartUnanswered {
            logger.warning(
                "start unanswered; counted as started, the next probe settles it",
                metadata: ["container": "\(launch.uuid)", "instance": "\(workerID)", "error": "\(unanswered)"])
        }
        startedDuringProbe?.insert(launch.uuid)
        workers[workerID]?.running[launch.uuid] = now
        mayBeRunning.insert(launch.uuid)
        workers[workerID]?.everRan = true
        workers[workerID]?.gpus[launch.uuid] = launch.gpuDevices
        workers[workerID]?.state = .running
        workers[workerID]?.lastBusy = now
        return w.typeName
    }

    /// Those of `starts` this pool takes now: their worker is ready, not held or drained, not
    /// being destroyed, and no worker may run a copy of their container (the round stops that
    /// first). Arrivals ask this in one hop; it looks at their workers only (a scan of 10,000
    /// workers holds the actor ~3 ms).
    public func admitting(_ starts: [Plan.Start]) -> [Plan.Start] {
        starts.filter { start in
            guard !mayBeRunning.contains(start.uuid), let w = workers[start.worker] else { return false }
            return (w.state == .idle || w.state == .running) && w.behavior == .run && w.destroyedAt == nil && !w.destroying
        }
    }

    /// The instance ("type id") whose worker reported a result for `uuid`, until it is released.
    public func reporter(of uuid: String) -> String? {
        guard let id = reportedBy[uuid], let w = workers[id] else { return nil }
        return "\(w.typeName) \(id)"
    }

    /// The result of `uuid` is recorded: the worker that reported it may forget it.
    public func release(_ uuid: String) async {
        guard let id = reportedBy.removeValue(forKey: uuid), let w = workers[id], w.destroyedAt == nil else { return }
        await executor.release(uuid, on: w.instance)
    }

    public func shutdown(_ id: String, reason: String, now: Double) async {
        await shutdown([(id, reason)], now: now)
    }

    /// Sends destroy again for instances still listed well after their shutdown.
    public func retryShutdowns(now: Double) async {
        // The few due, then sorted (not the whole pool sorted to find them).
        let due = workers.values.filter { w in w.destroyedAt.map { now - $0 >= settings.shutdownRetry } ?? false }.map(\.instance.id).sorted()
        for id in due { workers[id]?.destroyedAt = nil }
        await shutdown(due.map { ($0, "still listed after destroy") }, now: now)
    }

    /// Closes the driver's instance set when the dispatcher stops; its instances are untouched
    /// (the next start adopts them). Calls still waiting for the cloud are abandoned first: their
    /// intents stay open, and the next start settles them with the listing.
    public func close() async {
        queuedCalls = []
        for task in backgroundCalls.values { task.cancel() }
        await callsSettled()
        await instanceSet.close()
    }

    public func setBehavior(_ id: String, _ behavior: WorkerView.IdleBehavior) async {
        guard workers[id] != nil else { return }
        workers[id]?.behavior = behavior
        await paced(.setTags)
        do {
            try await instanceSet.setTags(ids: [id], tags: [settings.behaviorTag: behavior.rawValue])
        } catch {
            logger.warning("could not tag idle behavior", metadata: ["instance": "\(id)", "error": "\(error)"])
        }
    }

    /// An instance of ours never answered: its type backs off (see `BootFailures`).
    func noteBootFailure(_ w: Worker, cause: String, now: Double) {
        let metadata: Logger.Metadata = ["instance": "\(w.instance.id)", "type": "\(w.typeName)", "cause": "\(cause)"]
        if backoff.boot.failed(w.typeName, cause: cause, now: now) {
            logger.error("instance type not booting: creates of it back off", metadata: metadata)
        } else {
            logger.warning("instance did not boot", metadata: metadata)
        }
    }

    /// Turns a driver error into back-off by cause.
    func recordFailure(_ error: any Error, type: InstanceType?, now: Double) {
        let t = type ?? InstanceType(name: "*", vcpus: 1, ram: 1, price: 0)
        guard let e = error as? DriverError else { return backoff.record(.other("\(error)"), type: t, now: now) }
        switch e.errorClass {
        case .capacityType: backoff.record(.capacityType, type: t, now: now)
        case .capacityFamily: backoff.record(.capacityFamily, type: t, now: now)
        case .capacityGlobal: backoff.record(.capacityGlobal, type: t, now: now)
        case .quota: backoff.record(.quota(instanceCount: workers.count), type: t, now: now)
        case .rateLimit:
            backoff.record(
                .rateLimit(retryAfter: e.retryAfter.map(\.inSeconds)), type: t,
                now: now)
        case .auth: backoff.record(.auth("\(e)"), type: t, now: now)
        case .invalid where type != nil: backoff.record(.invalid("\(e)"), type: t, now: now)  // that type, as asked for
        default: backoff.record(.other("\(e)"), type: t, now: now)
        }
    }
}

public struct PoolError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
