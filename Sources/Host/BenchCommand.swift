import ArgumentParser
import Benchmarks
import Foundation
import Logging
import PostgresQueue
import Queue
import SQLiteQueue

/// `cloud-dispatch bench`: benchmarks that print numbers.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks that print numbers.",
        subcommands: [
            QueueBench.self, SchedulerBench.self, CostBench.self, DispatchBench.self, ProbeBench.self, SoakBench.self, MemoryBench.self,
            DriverCallBench.self, RampBench.self, RoundBench.self,
        ])
}

/// Submit and lock throughput of a queue store.
struct QueueBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract:
            "Submit N containers one by one and N in batches, lock them one by one and in batches, start them one by one; print containers per second.",
        discussion: "Uses a fresh SQLite file in --state-dir, or the PostgreSQL database of --store (its containers table is used as is).")

    @Option(help: "sqlite, or a postgres:// URL.") var store = "sqlite"
    @Option(help: "Folder for the SQLite file.") var stateDir = "bench-state"
    @Option(help: "Containers per phase.") var count = 10_000
    @Option(help: "Containers per batch in the batch phase.") var batch = 100
    @Option(help: "Submitters at once in the concurrent one-per-request phase.") var clients = 8
    @Flag(name: .customLong("print-uuids"), help: "Only submit, one by one, printing each uuid once committed (for crash tests).") var printUUIDs =
        false

    func run() async throws {
        let queue = try await open()
        if printUUIDs {
            for i in 0..<count {
                let c = try await queue.submit([ContainerSpec(command: ["bench", String(i)])])[0]
                FileHandle.standardOutput.write(Data((c.uuid + "\n").utf8))  // unbuffered: printed means committed
            }
            await queue.close()
            return
        }
        print("store: \(store == "sqlite" ? "sqlite (\(stateDir)/queue.sqlite3)" : "postgresql"), \(count) containers per phase")
        let result = try await QueueThroughput(count: count, batch: batch, clients: clients).run(queue) { print($0.line) }
        print(result.summary)
        result.figures(store: store == "sqlite" ? "sqlite" : "postgresql").forEach { print($0.line) }
        await queue.close()
    }

    func open() async throws -> any ContainerStore {
        if store == "sqlite" {
            try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
            let path = stateDir + "/queue.sqlite3"
            if !printUUIDs { try? FileManager.default.removeItem(atPath: path) }
            return try SQLiteContainerStore.open(path: path)
        }
        return try await PostgresContainerStore.open(url: store, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
    }
}

/// One scheduling pass over a synthetic queue and fleet.
struct SchedulerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Time one scheduling pass for each size: 1k/10k/100k containers × 100/1k/10k instances × 50 types.")

    @Option(help: "Passes per size (the best is reported).") var repeats = 3
    @Option(help: "Random seed for the synthetic workload.") var seed: UInt64 = 42

    func run() async throws {
        print("one pass, best of \(repeats); decisions = containers placed, refused or explained + instance actions")
        print(SchedulerWorkload.PassTiming.header)
        var timings: [SchedulerWorkload.PassTiming] = []
        for (containers, instances) in [(1_000, 100), (10_000, 1_000), (100_000, 10_000)] {
            timings.append(SchedulerWorkload(containers: containers, instances: instances, seed: seed).timePass(repeats: repeats))
            print(timings.last!.line)
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("peak RSS of this process: \(usage.ru_maxrss / 1024) MiB (the largest size's inputs and plan held at once)")
        timings.forEach { print($0.figure.line) }
    }
}

/// Cost efficiency on a simulated day: what the instances cost against what the work needed.
struct CostBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "Run a simulated workload on the sim driver (virtual clock) and compare the bill with its lower bound.",
        discussion: "Lower bound: each container's run time × the price of the cheapest type it fits (no boot, no idle, no packing).")

    @Option(help: "Containers.") var count = 2000
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @OptionGroup var options: DriverOptions

    func run() async throws {
        let bench = try await SimBench(name: "cost", options: options)
        defer { bench.removeFolder() }
        let set = try await bench.sim.openInstanceSet(id: "cost-bench", config: #"{"seed": \#(seed)}"#)
        let report = try await CostSimulation(count: count, seed: seed).run(on: set, store: bench.store, logger: bench.logger)
        report.lines.forEach { print($0) }
        report.figures.forEach { print($0.line) }
        await set.close()
        await bench.store.close()
    }
}
