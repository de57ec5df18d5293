import DriverHost
import Foundation
import Logging
import Queue
import Scheduler
import Simulation
import SQLiteQueue
import TestSupport
import WorkerPool

/// A whole dispatcher on a simulated cloud: the sim driver loaded through the ABI, a SQLite
/// queue, simulated workers, and a virtual clock that advances only when the test says.
final class SimWorld {
    static let quiet = Logger(label: "sim") { _ in SwiftLogNoOpLogHandler() }
    static let types = [
        InstanceType(name: "small", providerType: "sim.small", vcpus: 2, ram: 4 << 30, scratch: 50 << 30, price: 0.10, quotaGroup: "sim"),
        InstanceType(name: "large", providerType: "sim.large", vcpus: 16, ram: 64 << 30, scratch: 400 << 30, price: 0.80, quotaGroup: "sim"),
    ]

    let folder = Harness.temporaryFolder()
    let store: SQLiteContainerStore
    let set: any InstanceSet
    /// What reached the cloud (the pool talks to the sim through it).
    let cloud: CountingInstanceSet
    let executor: SimulatedExecutor
    /// Probe answers held while closed (open unless a test closes it; see `HeldProbeAnswers`).
    let heldProbeAnswers = Gate()
    let limits: Limits
    let settings: WorkerPool.Settings
    let types: [InstanceType]
    var dispatcher: Dispatcher
    /// Virtual time: the tests move it, and a pool waiting for cloud-call tokens moves it too.
    let clock = VirtualClock(start: 1_000_000)
    var now: Double {
        get { clock.now }
        set { clock.now = newValue }
    }

    init(simConfig: String = "{}", seed: UInt64 = 1, limits: Limits = Limits(maxInstances: 20, idleTimeout: 120),
         bootDelay: ClosedRange<Double> = 20...90, neverBootRate: Double = 0, maxAttempts: Int = 5, types: [InstanceType] = SimWorld.types,
         configure: (inout WorkerPool.Settings) -> Void = { _ in }) async throws {
        self.types = types
        store = try SQLiteContainerStore.open(path: folder + "/queue.sqlite3", policy: QueuePolicy(maxDispatchAttempts: maxAttempts))
        let plugins = Harness.temporaryFolder()
        try FileManager.default.copyItem(atPath: Harness.buildFolder + "/libcdd_sim.so", toPath: plugins + "/libcdd_sim.so")
        chmod(plugins + "/libcdd_sim.so", 0o755)
        let report = DriverLoader(pool: BlockingPool(name: "sim", threads: 4), logger: Self.quiet).loadNow(folder: plugins)
        guard let driver = report.driver(id: "sim") else { throw HarnessError("sim driver not loaded: \(report.refused)") }
        set = try await driver.openInstanceSet(id: "sim-test", config: simConfig)
        let executor = SimulatedExecutor(seed: seed, bootDelay: bootDelay, neverBootRate: neverBootRate)
        self.executor = executor
        cloud = CountingInstanceSet(set) { executor.kill($0) }  // a VM the cloud took back is dead
        self.limits = limits
        var settings = WorkerPool.Settings(instanceSetID: "sim-test")
        settings.bootTimeout = 300
        settings.probeTimeout = 120
        settings.use(try await driver.capabilities())
        configure(&settings)
        self.settings = settings
        dispatcher = Self.makeDispatcher(set: cloud, executor: HeldProbeAnswers(inner: executor, held: heldProbeAnswers), store: store,
                                         settings: settings, limits: limits, clock: clock, types: types)
    }

    /// The workers as the pool reaches them.
    var workers: any WorkerExecutor { HeldProbeAnswers(inner: executor, held: heldProbeAnswers) }

    static func makeDispatcher(set: any InstanceSet, executor: any WorkerExecutor, store: any ContainerStore,
                               settings: WorkerPool.Settings, limits: Limits, clock: VirtualClock, types: [InstanceType],
                               drainOnly: Bool = false) -> Dispatcher {
        let pool = WorkerPool(settings: settings, instanceSet: set, executor: executor, types: types, logger: quiet, clock: clock,
                              intents: store as? any CreateIntentLog)
        return Dispatcher(id: "sim-dispatcher", store: store, pool: pool, types: types, limits: limits, logger: quiet, drainOnly: drainOnly)
    }

    /// The dispatcher dies for good and a survivor runs its set in drain mode (a takeover).
    func takeOverDispatcher() {
        dispatcher = Self.makeDispatcher(set: cloud, executor: workers, store: store, settings: settings, limits: limits,
                                         clock: clock, types: types, drainOnly: true)
    }

    /// The dispatcher process dies and a new one starts: nothing survives but the queue, the
    /// cloud and the workers.
    func restartDispatcher(store replacement: (any ContainerStore)? = nil) {
        dispatcher = Self.makeDispatcher(set: cloud, executor: workers, store: replacement ?? store, settings: settings, limits: limits,
                                         clock: clock, types: types)
    }

    /// Submits containers that run `seconds` each (virtual) and exit with `exit`.
    @discardableResult
    func submit(_ count: Int, seconds: Int = 300, exit: Int = 0, vcpus: Int = 1, ram: Int64 = 1 << 30, priority: Int = 1) async throws -> [String] {
        try await store.submit((0..<count).map { _ in
            ContainerSpec(command: ["sim", String(seconds), String(exit)], priority: priority,
                          runtimeConstraints: RuntimeConstraints(vcpus: vcpus, ram: ram))
        }).map(\.uuid)
    }

    /// Advances the clock `step` seconds at a time, ticking, until `done` or `limit` seconds pass.
    func run(step: Double = 10, limit: Double = 36_000, until done: () async throws -> Bool) async throws -> Bool {
        let end = now + limit
        while now < end {
            await dispatcher.tickAndSettle(now: now)
            if try await done() { return true }
            now += step
        }
        return false
    }

    func all() async throws -> [Container] {
        var result: [Container] = []
        var after: String?
        repeat {
            let page = try await store.list(ContainerQuery(after: after, limit: 1000))
            result += page.items
            after = page.next
        } while after != nil
        return result
    }

    func allFinal() async throws -> Bool { try await all().allSatisfy(\.state.isFinal) }

    /// What the cloud lists for this set (retrying the sim's simulated throttling).
    func listedInstances() async throws -> [Instance] {
        for _ in 0..<20 {
            do {
                return try await set.list(tags: ["cloud-dispatch-instance-set": "sim-test"])
            } catch {
                if error.errorClass != .rateLimit { throw error }
            }
        }
        return try await set.list(tags: ["cloud-dispatch-instance-set": "sim-test"])
    }

    func close() async {
        await set.close()
        await store.close()
        try? FileManager.default.removeItem(atPath: folder)
    }
}
