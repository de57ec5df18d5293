import DriverHost
import Foundation
import Logging
import Queue
import Scheduler
import Simulation
import Units
import WorkerPool

/// `bench memory`: one dispatcher holding a large queue and a large fleet (the sim cloud through
/// the ABI, a virtual clock), and the resident memory that costs. One container fills one
/// instance and none ends, so once every instance runs one the fleet and the queue stay put.
///
///     let result = try await MemoryHold(queued: 100_000, instances: 10_000)
///         .run(sim: sim, store: store, logger: logger) { print($0) }
public struct MemoryHold: Sendable {
    /// Containers left waiting once every instance is busy.
    public var queued: Int
    /// Instances, each running one container.
    public var instances: Int
    /// Rounds at most before giving up on filling the fleet.
    public var maxRounds = 400

    public init(queued: Int, instances: Int) {
        self.queued = queued
        self.instances = instances
    }

    public struct Result: Sendable {
        public var rounds: Int
        public var instances: Int
        public var started: Int
        public var waiting: Int
        public var memory: ResidentMemory
        public var lastRound: Duration
        /// Every instance got its container.
        public var filled: Bool

        public var lines: [String] {
            [
                "after \(rounds) rounds: \(instances) instances, \(started) containers started, \(waiting) waiting",
                "RSS \(memory.mib) MiB, peak \(memory.peakMiB) MiB; the last round took \(lastRound.inMilliseconds) ms",
            ]
        }
    }

    /// `progress` gets a line after the submit and every fifth round.
    public func run(sim: any CloudDriver, store: any ContainerStore, logger: Logger, progress: (String) -> Void = { _ in }) async throws -> Result {
        let baseline = ResidentMemory.now()
        let set = try await sim.openInstanceSet(id: "memory-bench", config: #"{"seed": 1, "max_instances": \#(instances + 10)}"#)
        do {
            let result = try await fill(
                set, capabilities: try await sim.capabilities(), store: store, logger: logger, baseline: baseline,
                progress: progress)
            await set.close()
            return result
        } catch {
            await set.close()
            throw error
        }
    }

    private func fill(
        _ set: any InstanceSet, capabilities: Capabilities, store: any ContainerStore, logger: Logger, baseline: ResidentMemory,
        progress: (String) -> Void
    ) async throws -> Result {
        var settings = WorkerPool.Settings(instanceSetID: "memory-bench")
        settings.use(capabilities)
        let type = InstanceType(name: "one", providerType: "sim.small", vcpus: 2, ram: 4 << 30, price: 0.10, quotaGroup: "sim")
        let executor = SimulatedExecutor(seed: 1, bootDelay: 20...60)
        let clock = VirtualClock(start: 1_000_000)
        let pool = WorkerPool(settings: settings, instanceSet: set, executor: executor, types: [type], logger: logger, clock: clock)
        let dispatcher = Dispatcher(
            id: "memory", store: store, pool: pool, types: [type],
            limits: Limits(maxInstances: instances, maxConcurrentCreates: 1000, idleTimeout: 3600), logger: logger)

        let total = instances + queued
        var submitted = 0
        while submitted < total {
            let n = min(5000, total - submitted)
            let spec = ContainerSpec(command: ["sim", "86400", "0"], runtimeConstraints: RuntimeConstraints(vcpus: 2, ram: 1 << 30))
            _ = try await store.submit(Array(repeating: spec, count: n))
            submitted += n
        }
        progress("submitted \(total) containers; RSS \(ResidentMemory.now().mib) MiB (\(baseline.mib) MiB before)")

        var rounds = 0
        var lastRound = Duration.zero
        while rounds < maxRounds {
            let started = ContinuousClock.now
            _ = await dispatcher.tickAndSettle(now: clock.now)
            lastRound = ContinuousClock.now - started
            rounds += 1
            clock.now += 30
            if rounds % 5 == 0 {
                progress(
                    "round \(rounds): \(await pool.instanceCount) instances, \(executor.startCount) started, "
                        + "round \(lastRound.inMilliseconds) ms, RSS \(ResidentMemory.now().mib) MiB")
            }
            if executor.startCount >= instances, await pool.instanceCount >= instances { break }
        }
        let started = executor.startCount
        return Result(
            rounds: rounds, instances: await pool.instanceCount, started: started,
            waiting: try await Self.count(store, [.queued, .locked]), memory: ResidentMemory.now(), lastRound: lastRound,
            filled: started >= instances)
    }

    static func count(_ store: any ContainerStore, _ states: Set<ContainerState>) async throws -> Int {
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
