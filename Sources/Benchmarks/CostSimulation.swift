import DriverHost
import Foundation
import Logging
import Queue
import Scheduler
import Simulation
import WorkerPool

/// `bench cost`: a simulated day on the sim cloud (virtual clock), and its bill against a lower
/// bound: each container's run time × the price of the cheapest type it fits (no boot, no idle,
/// no packing). Arrivals spread over four hours; run times 1–60 min; one in ten needs a large type.
///
///     let set = try await sim.openInstanceSet(id: "cost-bench", config: #"{"seed": 42}"#)
///     let report = try await CostSimulation(count: 2000, seed: 42).run(on: set, store: store, logger: logger)
///     report.lines.forEach { print($0) }
public struct CostSimulation: Sendable {
    public var count: Int
    public var seed: UInt64

    public init(count: Int, seed: UInt64) {
        self.count = count
        self.seed = seed
    }

    public static let types = [
        InstanceType(name: "small", providerType: "sim.small", vcpus: 2, ram: 4 << 30, scratch: 50 << 30, price: 0.10),
        InstanceType(name: "large", providerType: "sim.large", vcpus: 16, ram: 64 << 30, scratch: 400 << 30, price: 0.80),
    ]

    public struct Report: Sendable {
        public var containers: Int
        /// Virtual seconds until the last instance was shut down.
        public var simulatedSeconds: Double
        public var bill: WorkerPool.Accounting
        public var containerSeconds: Double
        public var lowerBound: Double

        /// Lower bound / billed, in percent.
        public var efficiency: Double { 100 * lowerBound / bill.billedCost }

        public var lines: [String] {
            [
                "containers: \(containers), simulated \(String(format: "%.1f", simulatedSeconds / 3600)) h",
                "instances created: \(bill.instancesCreated), destroyed without running anything: \(bill.destroyedUnused)"
                    + " (\(String(format: "%.2f", bill.unusedSeconds / 3600)) VM-hours, "
                    + "\(String(format: "%.2f", 100 * bill.unusedSeconds / bill.billedSeconds))% of the bill)",
                "billed: \(String(format: "%.1f", bill.billedSeconds / 3600)) VM-hours, \(String(format: "%.2f", bill.billedCost)) in price units",
                "container-hours run: \(String(format: "%.1f", containerSeconds / 3600))",
                "lower bound (run time × cheapest fitting price): \(String(format: "%.2f", lowerBound))",
                "efficiency (lower bound / billed): \(String(format: "%.1f", efficiency))%",
            ]
        }
    }

    /// Runs the workload to the end on `set` (an instance set of the sim driver) and an empty `store`.
    public func run(on set: any InstanceSet, store: any ContainerStore, logger: Logger) async throws -> Report {
        let types = Self.types
        let limits = Limits(maxInstances: 100, maxConcurrentCreates: 20, idleTimeout: 60)
        let pool = WorkerPool(
            settings: WorkerPool.Settings(instanceSetID: "cost-bench"), instanceSet: set,
            executor: SimulatedExecutor(seed: seed, bootDelay: 20...40), types: types, logger: logger,
            clock: VirtualClock(start: 0))  // cloud-call tokens on virtual time, never real sleeps
        let dispatcher = Dispatcher(id: "bench", store: store, pool: pool, types: types, limits: limits, logger: logger)
        let eligibility = Eligibility(types: types)

        var rng = SeededRandom(seed: seed)
        var lowerBound = 0.0
        var containerSeconds = 0.0
        var now = 0.0
        var submitted = 0
        while true {
            if submitted >= count, try await Self.allFinal(store) { break }
            for _ in 0..<max(1, count / 480) where submitted < count {
                let seconds = Int.random(in: 60...3600, using: &rng)
                let big = Int.random(in: 0..<10, using: &rng) == 0
                let needs = Resources(vcpus: big ? 8 : 1, ram: big ? Int64(32) << 30 : Int64(2) << 30)
                _ = try await store.submit([
                    ContainerSpec(
                        command: ["sim", String(seconds), "0"],
                        runtimeConstraints: RuntimeConstraints(vcpus: needs.vcpus, ram: needs.ram))
                ])
                if case .eligible(let fit) = eligibility.answer(
                    for: ContainerDemand(uuid: "", state: .queued, priority: 1, createdAt: 0, needs: needs))
                {
                    lowerBound += fit[0].price * Double(seconds) / 3600
                }
                containerSeconds += Double(seconds)
                submitted += 1
            }
            await dispatcher.tickAndSettle(now: now)
            now += 30
        }
        for _ in 0..<20 {  // let the last instances go idle and be shut down
            await dispatcher.tickAndSettle(now: now)
            now += 30
        }
        return Report(
            containers: count, simulatedSeconds: now, bill: await pool.accounting(now: now), containerSeconds: containerSeconds,
            lowerBound: lowerBound)
    }

    static func allFinal(_ store: any ContainerStore) async throws -> Bool {
        try await store.list(ContainerQuery(states: [.queued, .locked, .running], limit: 1)).items.isEmpty
    }
}
