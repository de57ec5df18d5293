import Foundation
import Queue
import Scheduler
import Simulation
import Testing

/// Hours of operation on a faulty simulated cloud, with the dispatcher killed and restarted
/// along the way: nothing may be lost, run twice, or left running. `cloud-dispatch bench soak
/// --count 10000` runs the same at full size.
@Suite struct SoakTests {
    static let sim = #"{"seed": 11, "create_failure_rate": 0.1, "capacity_error_rate": {"sim.small": 0.2, "sim.large": 0.3}, "rate_limit_rate": 0.03, "max_instances": 120}"#

    @Test(.timeLimit(.minutes(10)))
    func aFaultyDayLosesNothingRunsNothingTwiceAndLeavesNothingRunning() async throws {
        let count = Int(ProcessInfo.processInfo.environment["CLOUD_DISPATCH_SOAK_CONTAINERS"] ?? "") ?? 2000
        try await withWorld(await SimWorld(simConfig: Self.sim, seed: 5, limits: Limits(maxInstances: 100, idleTimeout: 120),
                                           neverBootRate: 0.05)) { world in
            let report = try await Soak.run(count: count, seed: 99, store: world.store, executor: world.executor, clock: world.clock,
                                            maxRunTime: 1800, makeDispatcher: {
                                                world.restartDispatcher()
                                                return world.dispatcher
                                            }, listed: { (try? await world.listedInstances().count) ?? -1 })
            print("soak: \(report)")
            #expect(report.containers == count / 10 * 10)
            #expect(report.notFinal == 0, "no container left behind")
            #expect(report.cancelledWithoutReason == 0, "every cancellation has a reason")
            #expect(report.violations.isEmpty, "\(report.violations.prefix(3))")
            #expect(report.instancesLeft == 0, "no tagged instance left")
        }
    }
}

/// Deterministic for a seed: the same faults, the same decisions, the same outcome.
@Suite struct ReplayTests {
    func run() async throws -> [String] {
        let sim = #"{"seed": 4, "create_failure_rate": 0.2, "capacity_error_rate": {"sim.small": 0.3}, "rate_limit_rate": 0.05}"#
        var outcome: [String] = []
        try await withWorld(await SimWorld(simConfig: sim, seed: 8, neverBootRate: 0.1)) { world in
            try await world.submit(60, seconds: 900)
            try await world.submit(20, seconds: 300, exit: 2, vcpus: 8, ram: 16 << 30)
            _ = try await world.run(step: 30) {
                if Int(world.now) % 600 == 0, let victim = world.executor.liveNodes.first { world.executor.kill(victim) }
                return try await world.allFinal()
            }
            outcome = try await world.all().map { "\($0.state) \($0.exitCode ?? -1) \($0.lockCount) \($0.instance ?? "-")" }
        }
        return outcome
    }

    @Test func theSameSeedsGiveTheSameRun() async throws {
        let first = try await run()
        #expect(first.count == 80)
        #expect(try await run() == first)
    }
}
