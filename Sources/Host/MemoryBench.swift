import ArgumentParser
import Benchmarks
import Foundation

/// `cloud-dispatch bench memory`: one dispatcher holding a large queue and a large fleet (sim
/// cloud through the ABI, SQLite queue, virtual clock), and the resident memory that costs.
struct MemoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Hold N queued containers and M busy instances in one dispatcher (sim cloud, virtual clock); print the process's RSS.")

    @Option(help: "Containers left waiting once every instance is busy.") var queued = 100_000
    @Option(help: "Instances, each running one container.") var instances = 10_000
    @OptionGroup var options: DriverOptions

    func run() async throws {
        let bench = try await SimBench(name: "memory", options: options)
        defer { bench.removeFolder() }
        let hold = MemoryHold(queued: queued, instances: instances)
        let result = try await hold.run(sim: bench.sim, store: bench.store, logger: bench.logger) {
            print($0)
            fflush(nil)
        }
        result.lines.forEach { print($0) }
        hold.figures(result).forEach { print($0.line) }
        await bench.store.close()
        if !result.filled { throw ExitCode(1) }
    }
}
