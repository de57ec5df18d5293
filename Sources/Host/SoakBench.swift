import ArgumentParser
import DriverHost
import Foundation
import Logging
import Scheduler
import Simulation
import SQLiteQueue
import WorkerPool

/// `cloud-dispatch bench soak`: the soak test at any size, printing its numbers.
struct SoakBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Run N containers on the faulty sim cloud with dispatcher restarts (virtual clock); print what was lost, run twice or left.")

    @Option(help: "Containers.") var count = 10_000
    @Option(help: "Random seed.") var seed: UInt64 = 99
    @Option(help: "max_instances.") var maxInstances = 100
    @Option(help: "Provider types whose instances never boot for the first three waves (comma-separated).")
    var brokenTypes = "sim.large"
    @OptionGroup var options: DriverOptions

    func run() async throws {
        let bench = try await SimBench(name: "soak", options: options)
        defer { bench.removeFolder() }
        let (logger, store, sim) = (bench.logger, bench.store, bench.sim)
        let config = #"{"seed": \#(seed), "create_failure_rate": 0.1, "capacity_error_rate": {"sim.small": 0.2, "sim.large": 0.3}, "rate_limit_rate": 0.03, "max_instances": \#(maxInstances * 6 / 5), "#
            + #""lost_answer_rate": 0.05, "hang_rate": 0.02, "hang_seconds": 60, "destroy_not_found_rate": 0.05, "auth_failure_rate": 0.01, "auth_failure_lists": 2}"#
        let set = try await sim.openInstanceSet(id: "soak-bench", config: config)
        var settings = WorkerPool.Settings(instanceSetID: "soak-bench")
        settings.bootTimeout = 300
        settings.probeTimeout = 120
        settings.use(try await sim.capabilities())
        settings.maxBootFailuresPerHour = max(10, 2 * maxInstances)  // as serve sets it
        let executor = SimulatedExecutor(seed: seed, bootDelay: 20...90, neverBootRate: 0.05)
        let clock = VirtualClock(start: 1_000_000)
        let limits = Limits(maxInstances: maxInstances, idleTimeout: 120)
        let recorder = IntentRecorder(set)
        let rules = CloudRules(maxInstances: maxInstances, bootFailuresPerHour: settings.maxBootFailuresPerHour, wave: limits.maxConcurrentCreates)
        let started = ContinuousClock.now
        let result = try await Soak.run(count: count, seed: seed, store: store, executor: executor, clock: clock, maxRunTime: 1800,
                                        rules: rules, recorder: recorder,
                                        brokenTypes: Set(brokenTypes.split(separator: ",").map(String.init)), makeDispatcher: {
                                            let pool = WorkerPool(settings: settings, instanceSet: recorder, executor: executor, types: Soak.types,
                                                                  logger: logger, clock: clock, intents: store)
                                            return Dispatcher(id: "soak", store: store, pool: pool, types: Soak.types, limits: limits, logger: logger)
                                        }, listed: { try await set.list(tags: ["cloud-dispatch-instance-set": "soak-bench"]) })
        let wall = ContinuousClock.now - started
        print("soak: \(result)")
        print("wall time: \(wall.components.seconds) s; cloud calls of the last dispatcher: \(result.cloudCalls.sorted { $0.key < $1.key })")
        await set.close()
        await store.close()
        for violation in result.cloudViolations { print("violation: \(violation)") }
        let ok = result.notFinal == 0 && result.cancelledWithoutReason == 0 && result.violations.isEmpty && result.instancesLeft == 0
            && result.cloudViolations.isEmpty
        print(ok ? "PASS" : "FAIL")
        if !ok { throw ExitCode(1) }
    }
}

/// What the benchmarks on the sim cloud share: a quiet logger, the sim driver from the plugins
/// folder, and a fresh SQLite queue in a temporary folder.
struct SimBench {
    let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
    let sim: NativeDriver
    let folder: String
    let store: SQLiteContainerStore

    init(name: String, options: DriverOptions) async throws {
        let (_, report) = await Wiring.loadDrivers(options, logger: logger, only: "sim")
        guard let sim = report.driver(id: "sim") else {
            printError("the sim driver (libcdd_sim.so) is not in the plugins folder")
            throw ExitCode(2)
        }
        self.sim = sim
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("cdd-\(name)-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        store = try SQLiteContainerStore.open(path: folder + "/queue.sqlite3")
    }

    func removeFolder() { try? FileManager.default.removeItem(atPath: folder) }
}
