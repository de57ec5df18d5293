import ArgumentParser
import DriverHost
import Foundation
import Logging
import Units

/// `cloud-dispatch bench driver-call`: what one driver call costs in the daemon and in a
/// driver process (`driver.isolation: process`), one at a time and many at once.
struct DriverCallBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "driver-call",
        abstract: "Time instance_types and list calls to a driver in-process and in a driver process; print microseconds per call.")

    @OptionGroup var options: DriverOptions
    @Option(help: "Driver id.") var driver = "sim"
    @Option(help: ArgumentHelp("File holding the instance-set configuration (JSON); default {}.", valueName: "file")) var config: String?
    @Option(help: "Calls per measurement.") var calls = 2000
    @Option(help: "Calls at once in the concurrent measurement.") var concurrency = 8

    func run() async throws {
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let configText = try config.map { try String(contentsOfFile: $0, encoding: .utf8) } ?? "{}"
        let (_, report) = await Wiring.loadDrivers(options, logger: logger, only: driver)
        guard let native = report.driver(id: driver) else {
            printError("no driver \"\(driver)\" (refused: \(report.refused.map(\.description).joined(separator: "; ")))")
            throw ExitCode(2)
        }
        let isolated = try await ProcessDriver.start(
            path: native.info.realPath ?? native.info.path, executable: HelperProcess.currentExecutable(),
            callTimeout: .seconds(options.callTimeout), logger: logger
        ).get()
        print("driver \(driver), \(calls) calls per line, \(concurrency) at once in the concurrent lines")
        for (mode, cloudDriver) in [("in-process", native as any CloudDriver), ("process", isolated)] {
            let set = try await cloudDriver.openInstanceSet(id: "bench-driver-call", config: configText)
            _ = try await set.instanceTypes()  // warm up
            for (name, call) in [
                ("instance_types", { @Sendable () async throws in _ = try await set.instanceTypes() }),
                ("list", { @Sendable () async throws in _ = try await set.list(tags: ["bench": "none"]) }),
            ] {
                let one = try await measure(calls: calls, concurrency: 1, call)
                let many = try await measure(calls: calls, concurrency: concurrency, call)
                let label = mode.padding(toLength: 11, withPad: " ", startingAt: 0) + name.padding(toLength: 15, withPad: " ", startingAt: 0)
                print(label + String(format: "%8.1f µs/call one at a time   %8.1f µs/call with %d at once", one, many, concurrency))
            }
            await set.close()
        }
        await isolated.stop()
    }

    /// Mean wall time per call, in microseconds.
    func measure(calls: Int, concurrency: Int, _ call: @escaping @Sendable () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<concurrency {
                group.addTask {
                    for _ in stride(from: lane, to: calls, by: concurrency) { try await call() }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        let seconds = elapsed.inSeconds
        return seconds / Double(calls) * 1e6
    }
}
