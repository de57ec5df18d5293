import DriverHost
import Queue
import Scheduler
import Testing
import WorkerPool

/// A cloud that does not answer a create or a destroy delays only that answer: rounds go on
/// listing, probing, recording results and starting work meanwhile. (With the calls awaited
/// inside the round, the first `tick` here never returns and the time limit fails the test; the
/// limit is far above the second these take, as a loaded machine stretches everything.)
@Suite struct CloudCallsOutsideTheRoundTests {
    /// Rounds without waiting for the cloud, until `done` (each round is one `step` of virtual time).
    static func tickUntil(_ world: SimWorld, step: Double = 10, rounds: Int = 3_600, _ done: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<rounds {
            await world.dispatcher.tick(now: world.now)
            if try await done() { return true }
            world.now += step
        }
        return false
    }

    @Test(.timeLimit(.minutes(10))) func aCreateThatHangsLeavesTheRoundsGoing() async throws {
        try await withWorld(await SimWorld(limits: Limits(maxInstances: 4, idleTimeout: 600))) { world in
            let first = try await world.submit(1, seconds: 120)[0]
            #expect(try await world.run { try await world.store.get(first).state == .running })

            world.cloud.heldCreates.close()  // from now on the cloud does not answer a create
            let second = try await world.submit(1, seconds: 60, vcpus: 16)[0]  // needs a new, large instance
            #expect(try await Self.tickUntil(world) { world.cloud.heldCreates.waiting == 1 }, "the create was not sent")
            let listsBefore = world.cloud.snapshot.calls["list", default: 0]

            // While the create hangs: the first container ends and its result is recorded, the
            // cloud is listed, and the hanging create counts as one booting instance.
            #expect(try await Self.tickUntil(world) { try await world.store.get(first).state == .complete })
            #expect(world.cloud.snapshot.calls["list", default: 0] > listsBefore, "no listing while the create hung")
            let views = await world.dispatcher.pool.views()
            #expect(views.filter { $0.typeName == "large" && $0.state == .booting }.count == 1, "\(views)")
            #expect(world.cloud.snapshot.calls["create", default: 0] == 2, "a second create was sent for the same need")

            world.cloud.heldCreates.open()
            #expect(try await world.run { try await world.store.get(second).state == .complete })
            #expect(try await world.store.openIntents(instanceSet: "sim-test").isEmpty, "intents left open")
            #expect(world.executor.violations.isEmpty, "\(world.executor.violations)")
        }
    }

    @Test(.timeLimit(.minutes(10))) func nothingStartsOnAnInstanceWhoseDestroyIsUnderWay() async throws {
        try await withWorld(await SimWorld(limits: Limits(maxInstances: 4, idleTimeout: 120))) { world in
            let first = try await world.submit(1, seconds: 60)[0]
            #expect(try await world.run { try await world.store.get(first).state == .complete })
            let instance = try #require(try await world.store.get(first).instance)  // "type id"
            let worker = String(instance.split(separator: " ").last ?? "")

            world.cloud.heldDestroys.close()  // the idle worker's destroy will not be answered
            #expect(try await Self.tickUntil(world) { world.cloud.heldDestroys.waiting == 1 }, "the idle worker was not shut down")
            let second = try await world.submit(1, seconds: 60)[0]  // would fit the idle worker
            #expect(try await Self.tickUntil(world) { try await world.store.get(second).state == .complete },
                    "the second container did not run while the destroy hung")
            let ranOn = try await world.store.get(second).instance ?? ""
            #expect(!ranOn.hasSuffix(" \(worker)"), "it ran on \(worker), whose destroy was under way")

            world.cloud.heldDestroys.open()
            await world.dispatcher.pool.callsSettled()
            #expect(world.executor.violations.isEmpty, "\(world.executor.violations)")
        }
    }
}
