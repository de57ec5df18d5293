import DriverHost
import ExecutorPool
import Queue
import Testing

/// A backend that loses answers, throttles, is slow or fails, and a dispatcher that restarts:
/// never a second job for one run, never a container forgotten.
@Suite struct ExecutorRecoveryTests {
    @Test func aLostSubmitAnswerIsRetriedWithTheSameTokenAndFindsTheSameJob() async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        world.backend.faults.loseSubmitAnswers = 1
        await world.tick()
        let c = try await world.get(uuid)
        #expect(c.state == .locked && c.runtimeStatus.schedulingStatus == "submit to partition batch not answered (transient); retried next round")
        let job = try world.job(of: uuid)  // made, though its answer was lost
        await world.tick(3)
        #expect(try world.job(of: uuid) == job)  // adopted from the list: one job per container
        #expect(world.backend.submitCalls == 1)
        world.backend.startPending()
        await world.tick()
        #expect(try await world.get(uuid).state == .running)
        await world.close()
    }

    @Test func aSubmitLostOnTheWayIsSentAgainWithTheSameToken() async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        world.backend.faults.throttleSubmits = 2  // refused, nothing made
        await world.tick()
        #expect(world.backend.jobs.isEmpty)
        #expect(try await world.get(uuid).state == .locked)
        await world.tick()
        await world.tick()
        let job = try world.job(of: uuid)
        #expect(world.backend.submitCalls == 3)
        #expect(job.idempotencyToken == "\(uuid).0.0")
        #expect(try await world.get(uuid).lockCount == 0)  // waiting on a throttled backend costs no attempt
        await world.close()
    }

    @Test func aRestartedDispatcherAdoptsItsJobsAndSubmitsNoneTwice() async throws {
        var world = try ExecutorWorld()
        var uuids: [String] = []
        for _ in 0..<4 { uuids.append(try await world.submit()) }
        await world.tick()
        world.backend.startPending()
        await world.tick()
        // Two more: one submitted but not yet seen running, one whose submit answer was lost.
        let pending = try await world.submit(priority: 5)
        let unanswered = try await world.submit(priority: 4)
        world.backend.faults.loseSubmitAnswers = 2
        await world.tick()
        #expect(world.backend.jobs.count == 6)

        world.restart()
        await world.tick(3)
        #expect(world.backend.allJobs.count == 6)  // nothing submitted twice
        for uuid in uuids { #expect(try await world.get(uuid).state == .running) }
        #expect(try await world.get(pending).state == .locked)
        #expect(try await world.get(unanswered).state == .locked)
        world.backend.startPending()
        await world.tick()
        #expect(try await world.get(pending).state == .running)
        #expect(try await world.get(unanswered).state == .running)
        world.backend.end(try world.job(of: uuids[0]).id, .exited, exitCode: 3)
        await world.tick()
        #expect(try await world.get(uuids[0]).exitCode == 3)
        await world.close()
    }

    @Test func aLockFromBeforeARestartWithNoJobIsGivenBackWithAnAttemptCounted() async throws {
        var world = try ExecutorWorld()
        let uuid = try await world.submit()
        _ = try await world.store.lock([uuid], by: "exec-test")  // locked by an earlier process that died before submitting
        world.restart()
        await world.tick()
        let c = try await world.get(uuid)
        #expect(c.lockCount == 1)
        #expect(c.runtimeStatus.warning == "attempt 1 of 5 ended: locked before a dispatcher restart and no job of it found in the executor backend")
        await world.tick()
        #expect(try world.job(of: uuid).idempotencyToken == "\(uuid).1.0")
        await world.close()
    }

    @Test func aSubmitTheBackendRefusesGivesTheContainerBackWithTheReason() async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        world.backend.faults.refuseSubmits = .invalid
        await world.tick()
        let c = try await world.get(uuid)
        #expect(c.state == .queued && c.lockCount == 1)
        #expect(c.runtimeStatus.warning == "attempt 1 of 5 ended: could not submit to partition batch: fake.submit: invalid: refused by the test")
        await world.close()
    }

    @Test func aCapacityRefusalJustWaits() async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        world.backend.faults.refuseSubmits = .capacityType
        await world.tick(2)
        var c = try await world.get(uuid)
        #expect(c.state == .locked && c.lockCount == 0)
        #expect(c.runtimeStatus.schedulingStatus == "waiting for room: partition batch cannot take it now (refused by the test)")
        world.backend.faults.refuseSubmits = nil
        await world.tick()
        c = try await world.get(uuid)
        #expect(try world.job(of: uuid).idempotencyToken == "\(uuid).0.0" && c.lockCount == 0)
        await world.close()
    }

    @Test func aFailingListSkipsTheRoundAndHealthSaysSo() async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        world.backend.faults.failLists = 1
        await world.tick()
        #expect(world.backend.submitCalls == 0)
        #expect(try await world.get(uuid).state == .queued)
        #expect(world.dispatcher.backendHealth == "failing: cannot list jobs: fake.list: transient: list failed")
        await world.tick()
        #expect(world.dispatcher.backendHealth == "ok" && world.backend.jobs.count == 1)
        await world.close()
    }

    @Test func aSlowBackendIsGivenUpOnAtTheCallTimeout() async throws {
        let world = try ExecutorWorld { $0.callTimeout = .milliseconds(200) }
        let uuid = try await world.submit()
        world.backend.faults.slowCalls = .seconds(600)
        let clock = ContinuousClock()
        let took = await clock.measure { await world.tick() }
        #expect(took < .seconds(300))  // the list is given up on: the round ends long before the backend would answer
        #expect(world.dispatcher.backendHealth.hasPrefix("failing: cannot list jobs: fake.list: transient: no answer within 0.2s"))
        #expect(try await world.get(uuid).state == .queued)
        await world.close()
    }

    @Test func aRunRequeuedByHandIsStoppedAndTheNextRunIsANewJob() async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        await world.tick()
        world.backend.startPending()
        await world.tick()
        let first = try world.job(of: uuid)
        _ = try await world.store.apply(.requeue(by: "exec-test", reason: "requeued by an operator"), to: uuid)
        await world.tick()  // the old run's job is stopped, and nothing else submitted while it may run
        #expect(world.backend.cancelCalls == [first.id])
        #expect(world.backend.jobs(of: uuid).count == 1)
        #expect(try await world.get(uuid).runtimeStatus.schedulingStatus == "waiting for job \(first.id) of its earlier run to stop")
        await world.tick(2)
        let jobs = world.backend.jobs(of: uuid)
        #expect(jobs.map(\.idempotencyToken) == ["\(uuid).0.0", "\(uuid).1.0"])
        #expect(jobs.filter { $0.state != .ended }.count == 1)
        #expect(try await world.get(uuid).state == .locked)
        await world.close()
    }
}
