import ArgumentParser
import Foundation
import Logging
import PostgresQueue
import Queue
import Scheduler
import Simulation
import WorkerPool
import SQLiteQueue

/// `cloud-dispatch bench`: benchmarks that print numbers.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks that print numbers.", subcommands: [QueueBench.self, SchedulerBench.self, CostBench.self, DispatchBench.self, ProbeBench.self, SoakBench.self, MemoryBench.self, DriverCallBench.self])
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

/// One scheduling pass over a synthetic queue and fleet.
struct SchedulerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Time one scheduling pass for each size: 1k/10k/100k containers × 100/1k/10k instances × 50 types.")

    @Option(help: "Passes per size (the best is reported).") var repeats = 3
    @Option(help: "Random seed for the synthetic workload.") var seed: UInt64 = 42

    func run() async throws {
        let types = (0..<50).map { (i: Int) -> InstanceType in
            let size = 1 << (i % 6)  // 1, 2, 4 ... 32
            let family = 1.0 + Double(i / 6) * 0.03
            let price: Double = 0.05 * Double(size) * family
            return InstanceType(name: "t\(i)", vcpus: 2 * size, ram: Int64(4 * size) << 30, scratch: Int64(50 + i) << 30,
                                price: price, preemptible: i % 5 == 4)
        }
        let eligibility = Eligibility(types: types)
        print("one pass, best of \(repeats); decisions = containers placed, refused or explained + instance actions")
        print("containers  instances  pass ms  decisions  decisions/s")
        for (containers, instances) in [(1_000, 100), (10_000, 1_000), (100_000, 10_000)] {
            var rng = SeededRandom(seed: seed)
            let fleet = (0..<instances).map { i -> WorkerView in
                let t = types[Int.random(in: 0..<types.count, using: &rng)]
                return WorkerView(id: "i-\(i)", typeName: t.name, state: i % 10 == 0 ? .booting : .running, lastBusy: 0)
            }
            // A tenth of the containers already run on the fleet, the rest wait.
            let demands = (0..<containers).map { i -> ContainerDemand in
                let running = i < containers / 10
                return ContainerDemand(
                    uuid: "c\(i)", state: running ? .running(worker: "i-\(i % instances)") : (i % 3 == 0 ? .locked : .queued),
                    priority: Int.random(in: 1...10, using: &rng), createdAt: Double(i),
                    needs: Resources(vcpus: Int.random(in: 1...8, using: &rng), ram: Int64(Int.random(in: 1...24, using: &rng)) << 30),
                    preemptible: Int.random(in: 0..<5, using: &rng) == 0)
            }
            var best = Double.infinity
            var decisions = 0
            for _ in 0..<repeats {
                let start = ContinuousClock.now
                let plan = SchedulingPass.plan(containers: demands, workers: fleet, eligibility: eligibility,
                                               limits: Limits(maxInstances: instances + instances / 10), backoff: Backoff(), now: 1000)
                let elapsed = ContinuousClock.now - start
                best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                decisions = plan.decisionCount
            }
            print("\(String(containers).leftPad(10))  \(String(instances).leftPad(9))  \(String(format: "%7.1f", best * 1000))  \(String(decisions).leftPad(9))  \(String(format: "%11.0f", Double(decisions) / best))")
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("peak RSS of this process: \(usage.ru_maxrss / 1024) MiB (the largest size's inputs and plan held at once)")
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
        let (logger, store) = (bench.logger, bench.store)
        let set = try await bench.sim.openInstanceSet(id: "cost-bench", config: #"{"seed": \#(seed)}"#)
        let types = [
            InstanceType(name: "small", providerType: "sim.small", vcpus: 2, ram: 4 << 30, scratch: 50 << 30, price: 0.10),
            InstanceType(name: "large", providerType: "sim.large", vcpus: 16, ram: 64 << 30, scratch: 400 << 30, price: 0.80),
        ]
        let limits = Limits(maxInstances: 100, maxConcurrentCreates: 20, idleTimeout: 60)
        let pool = WorkerPool(settings: WorkerPool.Settings(instanceSetID: "cost-bench"), instanceSet: set,
                              executor: SimulatedExecutor(seed: seed, bootDelay: 20...40), types: types, logger: logger,
                              clock: VirtualClock(start: 0))  // cloud-call tokens on virtual time, never real sleeps
        let dispatcher = Dispatcher(id: "bench", store: store, pool: pool, types: types, limits: limits, logger: logger)
        let eligibility = Eligibility(types: types)

        var rng = SeededRandom(seed: seed)
        var lowerBound = 0.0
        var containerSeconds = 0.0
        var now = 0.0
        var submitted = 0
        // Arrivals spread over four hours; run times 1–60 min; mostly small, some large.
        while true {
            if submitted >= count, try await allFinal(store) { break }
            if submitted < count {
                for _ in 0..<max(1, count / 480) where submitted < count {
                    let seconds = Int.random(in: 60...3600, using: &rng)
                    let big = Int.random(in: 0..<10, using: &rng) == 0
                    let needs = Resources(vcpus: big ? 8 : 1, ram: big ? Int64(32) << 30 : Int64(2) << 30)
                    _ = try await store.submit([ContainerSpec(command: ["sim", String(seconds), "0"],
                                                              runtimeConstraints: RuntimeConstraints(vcpus: needs.vcpus, ram: needs.ram))])
                    if case .eligible(let fit) = eligibility.answer(for: ContainerDemand(uuid: "", state: .queued, priority: 1, createdAt: 0, needs: needs)) {
                        lowerBound += fit[0].price * Double(seconds) / 3600
                    }
                    containerSeconds += Double(seconds)
                    submitted += 1
                }
            }
            await dispatcher.tick(now: now)
            now += 30
        }
        for _ in 0..<20 {  // let the last instances go idle and be shut down
            await dispatcher.tick(now: now)
            now += 30
        }
        let bill = await pool.accounting(now: now)
        print("containers: \(count), simulated \(String(format: "%.1f", now / 3600)) h")
        print("instances created: \(bill.instancesCreated), destroyed without running anything: \(bill.destroyedUnused)"
              + " (\(String(format: "%.2f", bill.unusedSeconds / 3600)) VM-hours, \(String(format: "%.2f", 100 * bill.unusedSeconds / bill.billedSeconds))% of the bill)")
        print("billed: \(String(format: "%.1f", bill.billedSeconds / 3600)) VM-hours, \(String(format: "%.2f", bill.billedCost)) in price units")
        print("container-hours run: \(String(format: "%.1f", containerSeconds / 3600))")
        print("lower bound (run time × cheapest fitting price): \(String(format: "%.2f", lowerBound))")
        print("efficiency (lower bound / billed): \(String(format: "%.1f", 100 * lowerBound / bill.billedCost))%")
        await set.close()
        await store.close()
    }

    func allFinal(_ store: SQLiteContainerStore) async throws -> Bool {
        try await store.list(ContainerQuery(states: [.queued, .locked, .running], limit: 1)).items.isEmpty
    }
}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
