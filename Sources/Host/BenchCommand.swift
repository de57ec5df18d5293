import ArgumentParser
import Foundation
import Logging
import PostgresQueue
import Queue
import SQLiteQueue

/// `cloud-dispatch bench`: benchmarks that print numbers.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks that print numbers.", subcommands: [QueueBench.self])
}

/// Submit and lock throughput of a queue store.
struct QueueBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Submit N containers one by one and N in batches, lock them one by one and in batches; print containers per second.",
        discussion: "Uses a fresh SQLite file in --state-dir, or the PostgreSQL database of --store (its containers table is used as is).")

    @Option(help: "sqlite, or a postgres:// URL.") var store = "sqlite"
    @Option(help: "Folder for the SQLite file.") var stateDir = "bench-state"
    @Option(help: "Containers per phase.") var count = 10_000
    @Option(help: "Containers per batch in the batch phase.") var batch = 100
    @Flag(name: .customLong("print-uuids"), help: "Only submit, one by one, printing each uuid once committed (for crash tests).") var printUUIDs = false

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
        let singles = try await measure("submit, 1 per request") {
            for i in 0..<count { _ = try await queue.submit([ContainerSpec(command: ["single", String(i)])]) }
        }
        var uuids: [String] = []
        let batches = try await measure("submit, \(batch) per request") {
            var i = 0
            while i < count {
                let n = min(batch, count - i)
                uuids += try await queue.submit((0..<n).map { ContainerSpec(command: ["batch", String(i + $0)]) }).map(\.uuid)
                i += n
            }
        }
        let half = uuids.count / 2
        let locks = try await measure("lock, 1 per request", count: half) {
            for uuid in uuids[..<half] { _ = try await queue.lock([uuid], by: "bench") }
        }
        let batchLocks = try await measure("lock, \(batch) per request", count: uuids.count - half) {
            var rest = uuids[half...]
            while !rest.isEmpty {
                _ = try await queue.lock(Array(rest.prefix(batch)), by: "bench")
                rest = rest.dropFirst(batch)
            }
        }
        print("summary: submit \(Int(singles))/s single, \(Int(batches))/s batched; lock \(Int(locks))/s single, \(Int(batchLocks))/s batched")
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

    /// Runs `body` once; prints and returns containers per second.
    func measure(_ label: String, count: Int? = nil, _ body: () async throws -> Void) async throws -> Double {
        let start = ContinuousClock.now
        try await body()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(count ?? self.count) / seconds
        print("\(label.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(format: "%8.0f", rate)) containers/s  (\(String(format: "%.2f", seconds)) s)")
        return rate
    }
}
