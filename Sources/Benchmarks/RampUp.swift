import DriverHost
import Logging
import Queue
import Scheduler
import Simulation
import WorkerPool

/// `bench ramp`: how fast a queue of containers that each need a whole instance turns into
/// instances asked of the cloud — create calls and seconds on the wall clock, through the real
/// dispatcher and any driver (the sim cloud, or EC2 against moto). Nothing boots (the workers are
/// simulated and slow), so the figure is the creates alone.
///
///     let ramp = RampUp(count: 1_000, maxInstances: 1_000)
///     let report = try await ramp.run(set: set, capabilities: caps, type: small, store: store, logger: logger)
///     print(report)   // "1000 instances requested in 10 create calls, 1.2 s, ..."
public struct RampUp: Sendable {
    public var count: Int
    public var maxInstances: Int
    public var maxConcurrentCreates: Int
    /// Give up after this many seconds (a pool that never asks for them all).
    public var deadline: Double

    public init(count: Int, maxInstances: Int, maxConcurrentCreates: Int = Limits().maxConcurrentCreates, deadline: Double = 300) {
        self.count = count
        self.maxInstances = maxInstances
        self.maxConcurrentCreates = maxConcurrentCreates
        self.deadline = deadline
    }

    public struct Report: Sendable, CustomStringConvertible {
        public var instancesRequested = 0
        public var createCalls = 0
        public var seconds = 0.0
        public var rounds = 0
        /// The instances the cloud listed for the set at the end (the most: none is destroyed before).
        public var listedAtEnd = 0
        /// Why destroying what the run made failed, if it did (the instances may be left).
        public var cleanupError: String?

        public var description: String {
            "\(instancesRequested) instances requested in \(createCalls) create calls, \(String(format: "%.2f", seconds)) s, "
                + "\(rounds) rounds; \(listedAtEnd) listed at the end" + (cleanupError.map { "; cleanup failed: \($0)" } ?? "")
        }
    }

    /// Submits `count` containers the size of `type`, runs rounds until the pool asked for them
    /// all, and destroys what it made.
    public func run(
        set: any InstanceSet, capabilities: Capabilities, type: InstanceType, store: any ContainerStore & CreateIntentLog,
        logger: Logger
    ) async throws -> Report {
        let fill = RuntimeConstraints(vcpus: type.usable.vcpus, ram: type.usable.ram)
        _ = try await store.submit((0..<count).map { ContainerSpec(command: ["ramp", String($0)], runtimeConstraints: fill) })
        var settings = WorkerPool.Settings(instanceSetID: set.id)
        settings.use(capabilities)
        let clock = WallClock()
        let pool = WorkerPool(
            settings: settings, instanceSet: set, executor: SimulatedExecutor(seed: 1, bootDelay: 3600...3600), types: [type],
            logger: logger, clock: clock, intents: store)
        let limits = Limits(maxInstances: maxInstances, maxConcurrentCreates: maxConcurrentCreates, idleTimeout: 3600)
        let dispatcher = Dispatcher(id: "ramp", store: store, pool: pool, types: [type], limits: limits, logger: logger)
        var report = Report()
        let started = clock.now
        let tags = [settings.setTag: set.id]
        while report.instancesRequested < count && clock.now - started < deadline {
            let plan = await dispatcher.tickAndSettle(now: clock.now)
            report.rounds += 1
            // Why containers still wait (one of them), for --log-level debug.
            logger.debug(
                "ramp round",
                metadata: ["round": "\(report.rounds)", "creates": "\(plan.creates)", "waiting": "\(plan.statuses.count)",
                           "why": "\(plan.statuses.values.min() ?? "-")"])
            report.instancesRequested = await pool.cloudCalls.instancesRequested
        }
        report.seconds = clock.now - started
        // Listed once the clock stopped (a listing is no cheap call on moto); nothing is destroyed
        // during the ramp, so the last listing is the largest.
        report.listedAtEnd = (try? await set.list(tags: tags).count) ?? 0
        report.createCalls = await pool.cloudCalls.counts[.create, default: 0]
        do { try await destroyAll(set, tags: tags) } catch { report.cleanupError = "\(error)" }
        await pool.close()
        return report
    }

    private func destroyAll(_ set: any InstanceSet, tags: [String: String]) async throws {
        let ids = try await set.list(tags: tags).map(\.id)
        var i = 0
        while i < ids.count {
            let batch = Array(ids[i..<min(ids.count, i + 500)])
            _ = try await set.destroy(ids: batch)
            i += batch.count
        }
    }
}
