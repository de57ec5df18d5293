import DriverHost
import ExecutorPool
import Queue
import Testing

/// A survivor's dispatcher in drain mode over a dead executor dispatcher's id: it adopts the
/// jobs it finds, records them as they end, gives back locks with no job (an attempt counted),
/// submits nothing, and says it is drained once the id holds nothing.
@Suite struct ExecutorDrainTests {
    @Test func aTakenOverIdsJobsAreFinishedAndNothingNewIsSubmitted() async throws {
        let world = try ExecutorWorld(partitions: [.init(name: "batch", vcpus: 2, ram: 16 << 30)])
        let first = try await world.submit()
        let second = try await world.submit()
        let waiting = try await world.submit()
        await world.tick()
        world.backend.startPending()
        await world.tick()
        #expect(try await world.get(first).state == .running)
        #expect(try await world.get(second).state == .running)
        _ = try await world.store.lock([waiting], by: "exec-test")  // locked just before the daemon died, never submitted
        let late = try await world.submit()  // submitted after it died
        let submitted = world.backend.submitCalls

        let survivor = ExecutorDispatcher(
            id: "exec-test", store: world.store, backend: world.backend, settings: world.settings, logger: ExecutorWorld.logger,
            drainOnly: true)
        await survivor.tick(now: 0)
        let givenBack = try await world.get(waiting)
        #expect(givenBack.state == .queued && givenBack.lockCount == 1)
        #expect(
            givenBack.runtimeStatus.warning
                == "attempt 1 of 5 ended: locked by dispatcher exec-test, which was taken over, and no job of it found in the executor backend")
        #expect(try await world.get(first).state == .running, "its running jobs are adopted, not stopped")
        #expect(!survivor.isDrained)

        world.backend.end(try world.job(of: first).id, .exited, exitCode: 0)
        world.backend.end(try world.job(of: second).id, .exited, exitCode: 3)
        await survivor.tick(now: 0)
        #expect(try await world.get(first).exitCode == 0)
        #expect(try await world.get(second).exitCode == 3)
        await survivor.tick(now: 0)
        #expect(survivor.isDrained, "no container held, no job listed")
        #expect(world.backend.submitCalls == submitted, "the survivor submits nothing")
        #expect(try await world.get(late).state == .queued)
        #expect(try await world.get(waiting).state == .queued)
        #expect(world.backend.jobs.isEmpty, "every ended job was released")
        await world.close()
    }
}
