import Foundation
import Queue
import Scheduler
import Simulation
import Testing

/// Hours of operation on a faulty simulated cloud, with the dispatcher killed and restarted
/// along the way: nothing may be lost, run twice, or left running.
@Suite struct SoakTests {
    @Test(.timeLimit(.minutes(10)))
    func aFaultyDayLosesNothingRunsNothingTwiceAndLeavesNothingRunning() async throws {
        let sim = #"{"seed": 11, "create_failure_rate": 0.1, "capacity_error_rate": {"sim.small": 0.2, "sim.large": 0.3}, "rate_limit_rate": 0.03, "max_instances": 40}"#
        let count = Int(ProcessInfo.processInfo.environment["CLOUD_DISPATCH_SOAK_CONTAINERS"] ?? "") ?? 500
        try await withWorld(await SimWorld(simConfig: sim, seed: 5, limits: Limits(maxInstances: 30, idleTimeout: 120),
                                           neverBootRate: 0.05)) { world in
            var random = SeededRandom(seed: 99)
            for batch in 0..<10 {  // arrivals over time, mixed sizes and run times, some failing
                for _ in 0..<(count / 10) {
                    let seconds = Int.random(in: 60...3600, using: &random)
                    let exit = random.next() % 10 == 0 ? 1 : 0
                    let big = random.next() % 8 == 0
                    try await world.submit(1, seconds: seconds, exit: exit, vcpus: big ? 8 : Int.random(in: 1...2, using: &random),
                                           ram: big ? 16 << 30 : 1 << 30, priority: Int.random(in: 1...5, using: &random))
                }
                // A batch of ticks, a dead worker or two, and now and then a dispatcher restart.
                for tick in 0..<60 {
                    await world.dispatcher.tick(now: world.now)
                    world.now += 30
                    if tick % 20 == 7, let victim = world.executor.liveNodes.randomElement(using: &random) { world.executor.kill(victim) }
                }
                if batch % 3 == 2 { world.restartDispatcher() }
            }
            #expect(try await world.run(step: 30, limit: 400_000) { try await world.allFinal() })
            let all = try await world.all()
            #expect(all.count == count / 10 * 10)
            #expect(all.allSatisfy { $0.state.isFinal }, "no container left behind")
            let cancelled = all.filter { $0.state == .cancelled }
            #expect(cancelled.allSatisfy { ($0.runtimeStatus.error ?? "").isEmpty == false }, "every cancellation has a reason")
            #expect(world.executor.violations.isEmpty, "\(world.executor.violations.prefix(3))")
            #expect(try await world.run(step: 30) { try await world.listedInstances().isEmpty }, "no tagged instance left")
            let complete = all.filter { $0.state == .complete }
            print("soak: \(all.count) containers, \(complete.count) complete (\(complete.filter { $0.exitCode != 0 }.count) with a failing exit code), \(cancelled.count) cancelled, \(all.filter { $0.lockCount > 0 }.count) requeued at least once, \(world.executor.startCount) starts")
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

