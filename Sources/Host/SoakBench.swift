import ArgumentParser
import Benchmarks
import DriverHost
import Foundation
import Logging
import SQLiteQueue

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
        let soak = SoakRun(count: count, seed: seed, maxInstances: maxInstances, brokenTypes: Set(brokenTypes.split(separator: ",").map(String.init)))
        let started = ContinuousClock.now
        let result = try await soak.run(sim: bench.sim, store: bench.store, logger: bench.logger)
        let wall = ContinuousClock.now - started
        print("soak: \(result)")
        print("wall time: \(wall.components.seconds) s; cloud calls of the last dispatcher: \(result.cloudCalls.sorted { $0.key < $1.key })")
        await bench.store.close()
        for violation in result.cloudViolations { print("violation: \(violation)") }
        let ok = soak.passed(result)
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
