import Foundation
import Queue
import Testing
import WorkerPool

/// A survivor running a dead dispatcher's set in drain mode (`Dispatcher(drainOnly: true)`): it
/// adopts what runs there, gives back the locks of what never started, places nothing new, and
/// shuts every instance down once its containers end.
@Suite struct TakeoverDrainTests {
    @Test func aDrainedSetFinishesItsContainersGivesBackStaleLocksAndShutsDown() async throws {
        try await withWorld(await SimWorld(limits: .init(maxInstances: 20, idleTimeout: 100_000), bootDelay: 30...30)) { world in
            let running = try await world.submit(4, seconds: 600, vcpus: 2)
            #expect(try await world.run { try await world.all().filter { $0.state == .running }.count == 4 })
            // The dead dispatcher had locked one more and died before starting it.
            let stale = try await world.submit(1, seconds: 60)[0]
            #expect(try await world.store.lock([stale], by: "sim-dispatcher").count == 1)

            world.takeOverDispatcher()
            let fresh = try await world.submit(3, seconds: 60)  // work a draining set must not take
            #expect(try await world.run(limit: 7200) { world.dispatcher.isDrained }, "the set never drained")
            #expect(world.executor.violations.isEmpty, "\(world.executor.violations)")
            for uuid in running {
                let c = try await world.store.get(uuid)
                #expect(c.state == .complete && c.lockCount == 0, "\(uuid): \(c.state) after \(c.lockCount) attempts")
            }
            let given = try await world.store.get(stale)
            #expect(given.state == .queued && given.lockCount == 1 && given.lockedBy == nil, "a stale lock is given back, an attempt counted")
            for uuid in fresh {
                #expect(try await world.store.get(uuid).state == .queued, "nothing new is placed on a draining set")
            }
            #expect(try await world.listedInstances().isEmpty, "every instance of the set was shut down")
        }
    }

    /// The dead dispatcher started a container and died before recording the start, and the
    /// container ended on its worker. With the probes sent off the round, the survivor's first
    /// round still hears from the workers before it plans: a drained worker not heard from looks
    /// empty, and was shut down with the result on it (the container then ran a second time).
    @Test func aStartTheDeadOneNeverRecordedIsFoundBeforeItsWorkerIsShutDown() async throws {
        let offRound: (inout WorkerPool.Settings) -> Void = { $0.listOffRound = true; $0.probeOffRound = true }
        try await withWorld(await SimWorld(limits: .init(maxInstances: 20, idleTimeout: 100_000), bootDelay: 30...30, configure: offRound)) { world in
            let first = try await world.submit(1, seconds: 60)[0]
            #expect(try await world.run { try await world.store.get(first).state == .complete })
            let worker = try #require(try await world.listedInstances().first)
            let uuid = try await world.submit(1, seconds: 60)[0]
            let c = try #require(try await world.store.lock([uuid], by: "sim-dispatcher").first)
            let launch = ContainerLaunch(
                uuid: c.uuid, command: c.command, image: c.containerImage, environment: c.environment, cwd: c.cwd,
                maxRunTime: c.schedulingParameters.maxRunTime, gpuDevices: [])
            try await world.executor.start(launch, on: worker, now: world.now)  // the start the dead one never recorded
            world.now += 120  // it ended there meanwhile

            world.takeOverDispatcher()
            await world.dispatcher.tickAndSettle(now: world.now)
            #expect(try await world.store.get(uuid).state == .complete, "the survivor's first round planned before hearing from the workers")
            #expect(try await world.run(limit: 7200) { world.dispatcher.isDrained }, "the set never drained")
            let ended = try await world.store.get(uuid)
            #expect(ended.state == .complete && ended.lockCount == 0, "\(ended.state) after \(ended.lockCount) attempts ended")
            #expect(world.executor.starts(of: uuid) == 1)
            #expect(world.executor.violations.isEmpty, "\(world.executor.violations)")
        }
    }

    /// The price of never taking a worker not heard from for empty: a drained worker that
    /// never answers goes at boot_timeout, as any worker never heard from, not at once.
    @Test func aDrainedWorkerThatNeverAnswersIsShutDownAtTheBootTimeout() async throws {
        try await withWorld(await SimWorld(limits: .init(maxInstances: 20, idleTimeout: 100_000), bootDelay: 30...30)) { world in
            let first = try await world.submit(1, seconds: 60)[0]
            #expect(try await world.run { try await world.store.get(first).state == .complete })
            let worker = try #require(try await world.listedInstances().first)
            world.executor.kill(worker.id)  // unreachable from now on
            world.takeOverDispatcher()
            let takenOver = world.now
            await world.dispatcher.tickAndSettle(now: world.now)
            #expect(try await world.listedInstances().map(\.id) == [worker.id], "not shut down before it could answer")
            #expect(try await world.run(limit: 7200) { world.dispatcher.isDrained }, "the set never drained")
            let waited = world.now - takenOver
            #expect(waited >= world.settings.bootTimeout && waited < world.settings.bootTimeout + 60, "shut down \(waited) s after the takeover")
        }
    }
}
