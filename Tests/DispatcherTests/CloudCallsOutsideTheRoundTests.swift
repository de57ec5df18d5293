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

    /// With `listOffRound` (as `serve` runs), a listing the cloud is slow to answer holds up no
    /// round: work is created, started and recorded meanwhile, no second listing is sent while
    /// one is out, and the answer is applied once it comes. (Listed inside the round, the first
    /// `tick` after the hold never returns and the time limit fails the test.)
    @Test(.timeLimit(.minutes(10))) func aListingThatHangsLeavesTheRoundsGoing() async throws {
        try await withWorld(await SimWorld(limits: Limits(maxInstances: 4, idleTimeout: 600), configure: { $0.listOffRound = true })) { world in
            let first = try await world.submit(1, seconds: 60)[0]
            #expect(try await world.run { try await world.store.get(first).state == .complete })

            world.cloud.heldListAnswers.close()
            #expect(try await Self.tickUntil(world) { world.cloud.heldListAnswers.waiting == 1 }, "no listing was sent")
            let lists = world.cloud.snapshot.calls["list", default: 0]
            let second = try await world.submit(1, seconds: 60, vcpus: 16)[0]  // a new, large instance
            #expect(try await Self.tickUntil(world) { try await world.store.get(second).state == .complete },
                    "the second container did not run while the listing hung")
            #expect(world.cloud.snapshot.calls["list", default: 0] == lists, "a second listing was sent while one was out")

            world.cloud.heldListAnswers.open()
            #expect(try await Self.tickUntil(world) { world.cloud.snapshot.calls["list", default: 0] > lists + 1 },
                    "listings did not resume once the answer came")
            await world.dispatcher.pool.callsSettled()
            #expect(world.executor.violations.isEmpty, "\(world.executor.violations)")
        }
    }

    /// A listing applied a round or more after it was sent does not list what was created
    /// since. Judged by when it was applied, a new instance would count as gone even with no
    /// grace for late listings (`listGrace` 0): its container would be requeued and run again
    /// while the first copy still ran. Judged by when it was sent, the instance stays.
    @Test(.timeLimit(.minutes(10))) func anInstanceMadeWhileAListingWasOutIsNotTakenForGone() async throws {
        let settings: (inout WorkerPool.Settings) -> Void = { $0.listOffRound = true; $0.listGrace = 0 }
        try await withWorld(await SimWorld(limits: Limits(maxInstances: 4, idleTimeout: 600), configure: settings)) { world in
            await world.dispatcher.tick(now: world.now)  // the first listing, inside the round: an empty cloud
            world.cloud.heldListAnswers.close()
            #expect(try await Self.tickUntil(world) { world.cloud.heldListAnswers.waiting == 1 }, "no listing was sent")

            let uuid = try await world.submit(1, seconds: 600)[0]  // created after the held listing listed the cloud
            #expect(try await Self.tickUntil(world) { try await world.store.get(uuid).state == .running })
            let lists = world.cloud.snapshot.calls["list", default: 0]
            world.cloud.heldListAnswers.open()  // the old answer, without the new instance
            #expect(try await Self.tickUntil(world) { world.cloud.snapshot.calls["list", default: 0] > lists },
                    "the held answer was not applied")

            #expect(try await Self.tickUntil(world) { try await world.store.get(uuid).state == .complete })
            let container = try await world.store.get(uuid)
            #expect(container.lockCount == 0, "it was given back \(container.lockCount) times: \(container.runtimeStatus.warning ?? "")")
            await world.dispatcher.pool.callsSettled()
            #expect(world.executor.violations.isEmpty, "\(world.executor.violations)")
        }
    }

    /// Probes whose answers are slow (an SSH peer that hangs is waited for up to the command
    /// timeout) hold up no round: a container is locked and started on a ready worker meanwhile.
    /// The held answer was taken before that start and does not list it; applied rounds later,
    /// it must not make the container "vanished" (it would be given back and run a second time).
    @Test(.timeLimit(.minutes(10))) func probesThatHangLeaveTheRoundsGoing() async throws {
        try await withWorld(await SimWorld(limits: Limits(maxInstances: 4, idleTimeout: 600), configure: { $0.probeOffRound = true })) { world in
            let first = try await world.submit(1, seconds: 60)[0]
            #expect(try await world.run { try await world.store.get(first).state == .complete })

            world.heldProbeAnswers.close()
            #expect(try await Self.tickUntil(world) { world.heldProbeAnswers.waiting == 1 }, "no probe was sent")
            let second = try await world.submit(1, seconds: 60)[0]  // fits the idle worker
            #expect(try await Self.tickUntil(world) { try await world.store.get(second).state == .running },
                    "the second container did not start while the probe hung")
            #expect(world.heldProbeAnswers.waiting == 1, "a worker was probed again while its probe was out")

            world.heldProbeAnswers.open()
            #expect(try await Self.tickUntil(world) { try await world.store.get(second).state == .complete })
            let container = try await world.store.get(second)
            #expect(container.lockCount == 0, "it was given back \(container.lockCount) times: \(container.runtimeStatus.warning ?? "")")
            #expect(world.executor.starts(of: second) == 1)
            await world.dispatcher.pool.callsSettled()
            #expect(world.executor.violations.isEmpty, "\(world.executor.violations)")
        }
    }
}
