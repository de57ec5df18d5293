import DriverHost
import ExecutorPool
import Queue
import Testing

/// How a job's end becomes the container's: results recorded exactly, the reasons an operator
/// reads, requeues that count an attempt or do not, and jobs released once recorded.
@Suite struct ExecutorOutcomeTests {
    /// Submitted, started and marked Running: the job of `uuid`.
    func running(_ world: ExecutorWorld, _ uuid: String) async throws -> BackendJob {
        await world.tick()
        world.backend.startPending()
        await world.tick()
        let c = try await world.get(uuid)
        let job = try #require(world.backend.jobs(of: uuid).last { $0.state != .ended })
        #expect(c.state == .running && c.instance == job.where && c.instance?.hasPrefix("node-") == true)
        return job
    }

    @Test(arguments: [0, 3])
    func anExitCodeIsRecordedExactlyAndTheJobReleased(code: Int) async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        let job = try await running(world, uuid)
        world.backend.end(job.id, .exited, exitCode: code)
        await world.tick()
        let c = try await world.get(uuid)
        #expect(c.state == .complete && c.exitCode == code)
        #expect(c.log == "output of job \(job.id)\n")
        #expect(world.backend.jobs.isEmpty)  // released after recording
        #expect(world.backend.allJobs.count == 1)
        await world.close()
    }

    @Test func aJobThatStartedAndEndedBetweenTwoRoundsStillHasItsResult() async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        await world.tick()
        world.backend.startPending()
        world.backend.end(try world.job(of: uuid).id, .exited, exitCode: 7)
        await world.tick()
        let c = try await world.get(uuid)
        #expect(c.state == .complete && c.exitCode == 7 && c.startedAt != nil)
        await world.close()
    }

    @Test(arguments: [
        (BackendJob.EndReason.failedToStart, "could not be started by the executor backend (job JOB): no such program"),
        (.timeout, "ran past its max_run_time and was stopped (job JOB on node-1): no such program"),
        (.outOfMemory, "used more than its ram and was killed (job JOB on node-1): no such program"),
    ])
    func endsThatAreTheContainersOwnAreRecordedWithTheirReason(reason: BackendJob.EndReason, expected: String) async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        let job = try await running(world, uuid)
        world.backend.end(job.id, reason, message: "no such program")
        await world.tick()
        let c = try await world.get(uuid)
        #expect(c.state == .cancelled && c.exitCode == nil && c.lockCount == 0)
        #expect(c.runtimeStatus.error == expected.replacingOccurrences(of: "JOB", with: job.id))
        #expect(world.backend.jobs.isEmpty)
        await world.close()
    }

    @Test(arguments: [BackendJob.EndReason.nodeFail, .preempted])
    func aNodeFailureRequeuesWithoutCountingAnAttempt(reason: BackendJob.EndReason) async throws {
        let world = try ExecutorWorld(maxAttempts: 2)
        let uuid = try await world.submit()
        for round in 1...3 {  // more than the budget: none of them counts
            let job = try await running(world, uuid)
            world.backend.end(job.id, reason)
            await world.tick()
            let c = try await world.get(uuid)
            #expect(c.lockCount == 0 && c.interruptions == round)
            #expect(c.state == .queued || c.state == .locked)  // requeued, maybe already locked again
            #expect(c.runtimeStatus.warning?.hasPrefix("interrupted, not counted as an attempt: ") == true)
            world.backend.startPending()
            await world.tick()
        }
        // Each run had its own token, so each was a new job; never two alive at once.
        let jobs = world.backend.jobs(of: uuid)
        #expect(Set(jobs.map(\.idempotencyToken)).count == jobs.count)
        #expect(jobs.filter { $0.state != .ended }.count == 1)
        await world.close()
    }

    /// Jobs that end together are released together: one call for the round, not one per job.
    @Test func jobsEndedInOneRoundAreReleasedInOneCall() async throws {
        let world = try ExecutorWorld()
        var uuids: [String] = []
        for _ in 0..<6 { uuids.append(try await world.submit()) }
        await world.tick()
        world.backend.startPending()
        await world.tick()
        let jobs = try uuids.map { try world.job(of: $0) }
        for (i, job) in jobs.enumerated() { world.backend.end(job.id, .exited, exitCode: i) }
        await world.tick()
        for (i, uuid) in uuids.enumerated() { #expect(try await world.get(uuid).exitCode == i) }
        #expect(world.backend.releaseCalls.map { Set($0) } == [Set(jobs.map(\.id))], "\(world.backend.releaseCalls)")
        #expect(world.backend.jobs.isEmpty)
        await world.close()
    }

    @Test func aLostJobCountsAnAttemptUntilTheBudgetCancelsIt() async throws {
        let world = try ExecutorWorld(maxAttempts: 2)
        let uuid = try await world.submit()
        var job = try await running(world, uuid)
        world.backend.end(job.id, .lost)
        await world.tick()
        var c = try await world.get(uuid)
        #expect(c.lockCount == 1 && (c.state == .queued || c.state == .locked))
        #expect(c.runtimeStatus.warning == "attempt 1 of 2 ended: the executor backend lost track of job \(job.id)")
        await world.tick()
        world.backend.startPending()
        await world.tick()
        job = try #require(world.backend.jobs(of: uuid).last)
        world.backend.end(job.id, .lost)
        await world.tick()
        c = try await world.get(uuid)
        #expect(c.state == .cancelled)
        #expect(c.runtimeStatus.error == "gave up after 2 dispatch attempts; last: the executor backend lost track of job \(job.id)")
        await world.close()
    }

    @Test func cancellingARunningContainerCancelsItsJob() async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        let job = try await running(world, uuid)
        _ = try await world.store.apply(.cancel(reason: "cancelled by its submitter"), to: uuid)
        await world.tick()
        #expect(world.backend.cancelCalls == [job.id])
        await world.tick(2)
        #expect(world.backend.cancelCalls == [job.id])  // asked once
        #expect(world.backend.jobs.isEmpty)  // ended, and released since nothing is left to record
        let c = try await world.get(uuid)
        #expect(c.state == .cancelled && c.runtimeStatus.error == "cancelled by its submitter")
        await world.close()
    }

    @Test func priorityZeroStopsTheJobAndEndsTheContainer() async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        let job = try await running(world, uuid)
        _ = try await world.store.apply(.setPriority(0), to: uuid)
        await world.tick()
        #expect(world.backend.cancelCalls == [job.id])
        await world.tick()
        let c = try await world.get(uuid)
        #expect(c.state == .cancelled && c.runtimeStatus.error == "stopped: its priority was set to 0 (job \(job.id) cancelled)")
        await world.close()
    }

    @Test func aJobCancelledBehindOurBackEndsTheContainerWithTheReason() async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        let job = try await running(world, uuid)
        world.backend.end(job.id, .cancelled, message: "scancel by root")
        await world.tick()
        let c = try await world.get(uuid)
        #expect(c.state == .cancelled)
        #expect(c.runtimeStatus.error == "its job \(job.id) was cancelled outside cloud-dispatch: scancel by root")
        #expect(world.backend.cancelCalls.isEmpty)
        await world.close()
    }

    @Test func aRunningContainerWhoseJobVanishedIsRequeuedWithAnAttemptCounted() async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        let job = try await running(world, uuid)
        world.backend.vanish(job.id)
        await world.tick()
        let c = try await world.get(uuid)
        #expect(c.lockCount == 1 && c.runtimeStatus.warning == "attempt 1 of 5 ended: its job is no longer known to the executor backend")
        await world.close()
    }
}
