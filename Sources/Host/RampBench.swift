import ArgumentParser
import Benchmarks
import Foundation
import Logging
import SQLiteQueue
import Scheduler
import Units

/// `cloud-dispatch bench ramp`: queued containers that each need a whole instance → instances
/// asked of the cloud; prints create calls and seconds (wall clock, any driver).
struct RampBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ramp",
        abstract: "Queue N containers that each fill one instance; print how many create calls and seconds it takes to ask for them all.",
        discussion: "Runs the real dispatcher on the wall clock against --driver (sim by default; ec2 with a moto --config). "
            + "Instances are destroyed at the end.")

    @Option(help: "Containers (one instance each).") var count = 1_000
    @Option(help: "max_instances (default: --count).") var maxInstances: Int?
    @Option(help: "max_concurrent_creates.") var maxConcurrentCreates = Limits().maxConcurrentCreates
    @Option(help: "Driver id.") var driver = "sim"
    @Option(help: "Instance-set config file (JSON); default {}.") var config: String?
    @Option(help: "Provider type of the one instance type.") var providerType = "sim.small"
    @OptionGroup var options: DriverOptions

    func run() async throws {
        // Warnings by default (the table stays readable); --log-level debug shows each plan's reasons.
        let logger = Wiring.logger(level: options.logLevel)
        let (_, report) = await Wiring.loadDrivers(options, logger: logger, only: driver)
        guard let loaded = report.driver(id: driver) else {
            printError("the driver \(driver) is not in the plugins folder")
            throw ExitCode(2)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cdd-ramp-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try SQLiteContainerStore.open(path: folder + "/queue.sqlite3")
        let setConfig = try config.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? "{}"
        let set = try await loaded.openInstanceSet(id: "ramp-bench", config: setConfig)
        let type = InstanceType(name: "small", providerType: providerType, vcpus: 2, ram: 4 << 30, price: 0.10)
        let ramp = RampUp(count: count, maxInstances: maxInstances ?? count, maxConcurrentCreates: maxConcurrentCreates)
        print("\(driver): \(count) containers of one \(providerType) each, max_instances \(ramp.maxInstances), "
            + "max_concurrent_creates \(maxConcurrentCreates)")
        let result = try await ramp.run(set: set, capabilities: try await loaded.capabilities(), type: type, store: store, logger: logger)
        print(result)
        ramp.figures(result, driver: driver).forEach { print($0.line) }
        await store.close()
    }
}
