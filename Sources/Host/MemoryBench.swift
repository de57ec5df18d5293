import ArgumentParser
import Foundation
import Queue
import Scheduler
import Simulation
import WorkerPool

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
        let baseline = ResidentMemory.now()
        let set = try await bench.sim.openInstanceSet(id: "memory-bench", config: #"{"seed": 1, "max_instances": \#(instances + 10)}"#)
        var settings = WorkerPool.Settings(instanceSetID: "memory-bench")
        settings.use(try await bench.sim.capabilities())
        // One container fills one instance, and none ends: the fleet and the queue stay put.
        let type = InstanceType(name: "one", providerType: "sim.small", vcpus: 2, ram: 4 << 30, price: 0.10, quotaGroup: "sim")
        let executor = SimulatedExecutor(seed: 1, bootDelay: 20...60)
        let clock = VirtualClock(start: 1_000_000)
        let pool = WorkerPool(settings: settings, instanceSet: set, executor: executor, types: [type], logger: bench.logger, clock: clock)
        let dispatcher = Dispatcher(id: "memory", store: bench.store, pool: pool, types: [type],
                                    limits: Limits(maxInstances: instances, maxConcurrentCreates: 1000, idleTimeout: 3600), logger: bench.logger)

        let total = instances + queued
        var submitted = 0
        while submitted < total {
            let n = min(5000, total - submitted)
            let spec = ContainerSpec(command: ["sim", "86400", "0"], runtimeConstraints: RuntimeConstraints(vcpus: 2, ram: 1 << 30))
            _ = try await bench.store.submit(Array(repeating: spec, count: n))
            submitted += n
        }
        print("submitted \(total) containers; RSS \(ResidentMemory.now().mib) MiB (\(baseline.mib) MiB before)")

        var rounds = 0
        var lastRound = Duration.zero
        while rounds < 400 {
            let started = ContinuousClock.now
            _ = await dispatcher.tickAndSettle(now: clock.now)
            lastRound = ContinuousClock.now - started
            rounds += 1
            clock.now += 30
            if rounds % 5 == 0 {
                print("round \(rounds): \(await pool.instanceCount) instances, \(executor.startCount) started, "
                      + "round \(lastRound.milliseconds) ms, RSS \(ResidentMemory.now().mib) MiB")
                fflush(nil)
            }
            if executor.startCount >= instances, await pool.instanceCount >= instances { break }
        }
        let running = executor.startCount
        let waiting = try await count(bench.store, [.queued, .locked])
        let memory = ResidentMemory.now()
        print("after \(rounds) rounds: \(await pool.instanceCount) instances, \(running) containers started, \(waiting) waiting")
        print("RSS \(memory.mib) MiB, peak \(memory.peakMiB) MiB; the last round took \(lastRound.milliseconds) ms")
        await set.close()
        await bench.store.close()
        if running < instances { throw ExitCode(1) }
    }

    private func count(_ store: any ContainerStore, _ states: Set<ContainerState>) async throws -> Int {
        var n = 0
        var after: String?
        repeat {
            let page = try await store.list(ContainerQuery(states: states, after: after, limit: ContainerQuery.maxLimit))
            n += page.items.count
            after = page.next
        } while after != nil
        return n
    }
}

/// This process's resident set, from /proc/self/status.
struct ResidentMemory {
    var kib = 0
    var peakKiB = 0

    var mib: Int { kib / 1024 }
    var peakMiB: Int { peakKiB / 1024 }

    static func now() -> ResidentMemory {
        var m = ResidentMemory()
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let value = Int(fields[1]) else { continue }
            if fields[0] == "VmRSS:" { m.kib = value }
            if fields[0] == "VmHWM:" { m.peakKiB = value }
        }
        return m
    }
}

extension Duration {
    var milliseconds: Int { Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000) }
}
