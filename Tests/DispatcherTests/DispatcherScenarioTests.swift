import Foundation
import Queue
import Scheduler
import Testing

/// Whole-dispatcher scenarios on the simulated cloud, under a virtual clock.
@Suite struct DispatcherScenarioTests {
    @Test func containersRunToCompletionAndIdleInstancesGoAway() async throws {
        try await withWorld(await SimWorld()) { world in
            try await world.submit(6, seconds: 600, exit: 0)
            try await world.submit(2, seconds: 120, exit: 3)
            #expect(try await world.run { try await world.allFinal() })
            let containers = try await world.all()
            #expect(containers.allSatisfy { $0.state == .complete }, "\(containers.map { ($0.state, $0.runtimeStatus) })")
            #expect(containers.filter { $0.exitCode == 3 }.count == 2)
            #expect(containers.allSatisfy { $0.cost > 0 && $0.instance?.hasPrefix("small sim-") == true })
            // After the idle timeout, nothing is left running in the cloud.
            #expect(try await world.run { try await world.listedInstances().isEmpty })
            #expect(world.executor.violations.isEmpty)
        }
    }

    @Test func aContainerNothingFitsIsCancelledWithTheReason() async throws {
        try await withWorld(await SimWorld()) { world in
            let uuid = try await world.submit(1, vcpus: 64)[0]
            #expect(try await world.run { try await world.allFinal() })
            let c = try await world.store.get(uuid)
            #expect(c.state == .cancelled)
            #expect(c.runtimeStatus.error?.hasPrefix("cannot run: no instance type fits: the largest, large, falls short: 64 vCPUs > 16") == true)
            #expect(try await world.listedInstances().isEmpty, "no instance was created for it")
        }
    }

    @Test func aWorkerThatDiesGetsItsContainersRequeuedAndRerun() async throws {
        try await withWorld(await SimWorld()) { world in
            let uuids = try await world.submit(2, seconds: 1800)
            #expect(try await world.run { try await world.all().allSatisfy { $0.state == .running } })
            let victim = try #require(try await world.store.get(uuids[0]).instance?.split(separator: " ").last.map(String.init))
            world.executor.kill(victim)
            #expect(try await world.run { try await world.allFinal() })
            let first = try await world.store.get(uuids[0])
            #expect(first.state == .complete && first.lockCount == 1, "requeued once, then completed elsewhere")
            #expect(first.instance?.hasSuffix(victim) == false)
            #expect(world.executor.violations.isEmpty)
            #expect(try await world.run { try await world.listedInstances().isEmpty }, "the dead instance was shut down too")
        }
    }

    @Test func aDispatcherRestartAdoptsInstancesAndRunsNothingTwice() async throws {
        try await withWorld(await SimWorld()) { world in
            try await world.submit(10, seconds: 900)
            #expect(try await world.run { try await world.all().filter { $0.state == .running }.count >= 6 })
            let startsBefore = world.executor.startCount
            let running = Set(try await world.all().filter { $0.state == .running }.map(\.uuid))
            world.restartDispatcher()
            #expect(try await world.run { try await world.allFinal() })
            let after = try await world.all()
            #expect(after.allSatisfy { $0.state == .complete })
            #expect(after.filter { running.contains($0.uuid) }.allSatisfy { $0.lockCount == 0 },
                    "nothing running was requeued: the new dispatcher found every running container")
            #expect(after.filter { !running.contains($0.uuid) }.allSatisfy { $0.lockCount <= 1 },
                    "stale locks (waiting for a boot at the restart) went back to the queue once")
            #expect(world.executor.startCount == 10, "each container started exactly once (\(startsBefore) before the restart)")
            #expect(world.executor.violations.isEmpty)
            #expect(try await world.run { try await world.listedInstances().isEmpty })
        }
    }

    @Test func instancesThatNeverBootAreShutDownAndTheWorkStillRuns() async throws {
        try await withWorld(await SimWorld(seed: 3, neverBootRate: 0.5)) { world in
            try await world.submit(8, seconds: 300)
            #expect(try await world.run { try await world.allFinal() })
            #expect(try await world.all().allSatisfy { $0.state == .complete })
            #expect(try await world.run { try await world.listedInstances().isEmpty })
        }
    }

    @Test func cloudFaultsSlowCreationButLoseNothing() async throws {
        let sim = #"{"seed": 9, "create_failure_rate": 0.3, "capacity_error_rate": {"sim.small": 0.3}, "rate_limit_rate": 0.1, "max_instances": 6}"#
        try await withWorld(await SimWorld(simConfig: sim, limits: Limits(maxInstances: 20, idleTimeout: 120))) { world in
            try await world.submit(30, seconds: 400)
            #expect(try await world.run { try await world.allFinal() })
            let containers = try await world.all()
            #expect(containers.allSatisfy { $0.state == .complete }, "\(containers.filter { $0.state != .complete }.map { ($0.state, $0.lockCount, $0.runtimeStatus) })")
            #expect(try await world.run { try await world.listedInstances().isEmpty })
            #expect(world.executor.violations.isEmpty)
        }
    }

    @Test func cancellingARunningContainerStopsIt() async throws {
        try await withWorld(await SimWorld()) { world in
            let uuid = try await world.submit(1, seconds: 36_000)[0]
            #expect(try await world.run { try await world.store.get(uuid).state == .running })
            _ = try await world.store.apply(.cancel(reason: "user"), to: uuid)
            #expect(try await world.run { await world.dispatcher.pool.runningContainers.isEmpty })
            #expect(try await world.store.get(uuid).state == .cancelled)
            #expect(try await world.run { try await world.listedInstances().isEmpty })
        }
    }
}

/// Runs `body` in a fresh world and always closes it.
func withWorld(_ make: @autoclosure () async throws -> SimWorld, _ body: (SimWorld) async throws -> Void) async throws {
    let world = try await make()
    do {
        try await body(world)
    } catch {
        await world.close()
        throw error
    }
    await world.close()
}
