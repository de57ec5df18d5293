import DriverHost
import Logging
import Queue
import Scheduler
import Simulation
import WorkerPool

/// `bench soak`: the soak at any size — N containers on the faulty sim cloud (failed and lost
/// creates, capacity and rate-limit errors, hangs, auth failures, instances that never boot) with
/// dispatcher restarts, on a virtual clock — and whether anything was lost, run twice or left.
///
///     let run = SoakRun(count: 10_000, seed: 99, maxInstances: 100, brokenTypes: ["sim.large"])
///     let report = try await run.run(sim: sim, store: store, logger: logger)
///     print(run.passed(report) ? "PASS" : "FAIL")
public struct SoakRun: Sendable {
    public var count: Int
    public var seed: UInt64
    public var maxInstances: Int
    /// Provider types whose instances never boot for the first three waves.
    public var brokenTypes: Set<String>

    public init(count: Int, seed: UInt64, maxInstances: Int, brokenTypes: Set<String>) {
        self.count = count
        self.seed = seed
        self.maxInstances = maxInstances
        self.brokenTypes = brokenTypes
    }

    /// The sim driver's faults for this run.
    public var simConfig: String {
        #"{"seed": \#(seed), "create_failure_rate": 0.1, "capacity_error_rate": {"sim.small": 0.2, "sim.large": 0.3}, "#
            + #""rate_limit_rate": 0.03, "max_instances": \#(maxInstances * 6 / 5), "#
            + #""lost_answer_rate": 0.05, "hang_rate": 0.02, "hang_seconds": 60, "destroy_not_found_rate": 0.05, "#
            + #""auth_failure_rate": 0.01, "auth_failure_lists": 2}"#
    }

    /// Runs it on `sim` (the sim driver) and an empty `store` that keeps create intents.
    public func run(sim: any CloudDriver, store: any ContainerStore & CreateIntentLog, logger: Logger) async throws -> Soak.Report {
        let set = try await sim.openInstanceSet(id: "soak-bench", config: simConfig)
        do {
            let report = try await run(set, capabilities: try await sim.capabilities(), store: store, logger: logger)
            await set.close()
            return report
        } catch {
            await set.close()
            throw error
        }
    }

    private func run(
        _ set: any InstanceSet, capabilities: Capabilities, store: any ContainerStore & CreateIntentLog,
        logger: Logger
    ) async throws -> Soak.Report {
        var settings = WorkerPool.Settings(instanceSetID: "soak-bench")
        settings.bootTimeout = 300
        settings.probeTimeout = 120
        settings.use(capabilities)
        settings.maxBootFailuresPerHour = max(10, 2 * maxInstances)  // as serve sets it
        let executor = SimulatedExecutor(seed: seed, bootDelay: 20...90, neverBootRate: 0.05)
        let clock = VirtualClock(start: 1_000_000)
        let limits = Limits(maxInstances: maxInstances, idleTimeout: 120)
        let recorder = IntentRecorder(set)
        let wave = min(maxInstances, limits.maxConcurrentCreates * settings.maxCreateCount)  // launched before a failure shows
        let rules = CloudRules(maxInstances: maxInstances, bootFailuresPerHour: settings.maxBootFailuresPerHour, wave: wave)
        return try await Soak.run(
            count: count, seed: seed, store: store, executor: executor, clock: clock, maxRunTime: 1800,
            rules: rules, recorder: recorder, brokenTypes: brokenTypes,
            makeDispatcher: {
                let pool = WorkerPool(
                    settings: settings, instanceSet: recorder, executor: executor, types: Soak.types,
                    logger: logger, clock: clock, intents: store)
                return Dispatcher(id: "soak", store: store, pool: pool, types: Soak.types, limits: limits, logger: logger)
            }, listed: { try await set.list(tags: ["cloud-dispatch-instance-set": "soak-bench"]) })
    }

    /// Nothing lost, cancelled without a reason, run twice or left behind, and the cloud's rules kept.
    public func passed(_ r: Soak.Report) -> Bool {
        r.notFinal == 0 && r.cancelledWithoutReason == 0 && r.violations.isEmpty && r.instancesLeft == 0 && r.cloudViolations.isEmpty
    }
}
