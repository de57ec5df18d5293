import DriverHost
import ExecutorPool
import Queue
import Testing

/// What a round submits: in the queue's order, never more than the backend says is free, and
/// nothing that no partition could ever take.
@Suite struct ExecutorPlanningTests {
    @Test func higherPriorityIsSubmittedFirstWhenRoomIsShort() async throws {
        let world = try ExecutorWorld(partitions: [.init(name: "batch", vcpus: 2, ram: 64 << 30)])
        let low = try await world.submit(priority: 1)
        let high = try await world.submit(priority: 9)
        let middle = try await world.submit(priority: 5)
        await world.tick()
        #expect(world.backend.jobs.map { JobToken.container($0) } == [high, middle])
        #expect(try await world.get(low).state == .queued)
        let status = try #require(try await world.get(low).runtimeStatus.schedulingStatus)
        #expect(status == "waiting for room on partition batch: needs 1 vCPUs, 1GiB; 0 vCPUs, 62GiB free")
        #expect(try await world.get(high).state == .locked)
        await world.close()
    }

    @Test func neverSubmitsMoreThanTheBackendReportsFree() async throws {
        let world = try ExecutorWorld(partitions: [.init(name: "batch", vcpus: 16, ram: 8 << 30)])
        world.backend.setBusy("batch", vcpus: 4, ram: 1 << 30)  // other users' load
        for _ in 0..<10 { try await world.submit(vcpus: 2, ram: 1 << 30) }
        await world.tick(3)
        // 12 vCPUs and 7 GiB free: RAM allows 7 jobs, vCPUs 6.
        #expect(world.backend.jobs.count == 6)
        #expect(world.backend.submitCalls == 6)  // none refused for capacity: the plan kept within free room
        world.backend.startPending()
        world.backend.end(world.backend.jobs[0].id, .exited, exitCode: 0)
        await world.tick()
        #expect(world.backend.jobs.count == 6)  // one ended and was released, one more submitted
        #expect(world.backend.allJobs.count == 7)
        await world.close()
    }

    @Test func aContainerNoPartitionCanTakeIsCancelledWithTheReason() async throws {
        let world = try ExecutorWorld(partitions: [
            .init(name: "batch", vcpus: 64, ram: 256 << 30, maxJobVCPUs: 8, maxJobRAM: 32 << 30, maxRunTime: 3600),
            .init(name: "long", vcpus: 16, ram: 64 << 30, maxJobVCPUs: 4, maxJobRAM: 16 << 30),
        ])
        let wide = try await world.submit(vcpus: 16, ram: 1 << 30)
        let long = try await world.submit(vcpus: 6, ram: 1 << 30, maxRunTime: 7200)
        let fits = try await world.submit(vcpus: 4, ram: 1 << 30, maxRunTime: 7200)  // only "long" takes it
        await world.tick()
        let cancelled = try await world.get(wide)
        #expect(cancelled.state == .cancelled)
        #expect(
            cancelled.runtimeStatus.error
                == "cannot run: needs 16 vCPUs, 1GiB; more than any partition allows "
                + "(batch: at most 8 vCPUs, 32GiB, 1h; long: at most 4 vCPUs, 16GiB)")
        #expect(try await world.get(long).runtimeStatus.error?.contains("needs 6 vCPUs, 1GiB, max_run_time 2h;") == true)
        #expect(try await world.get(long).state == .cancelled)
        #expect(try world.job(of: fits).partition == "long")
        await world.close()
    }

    @Test func configuredPartitionsRestrictAndOrderTheChoice() async throws {
        let world = try ExecutorWorld(partitions: [
            .init(name: "a", vcpus: 8, ram: 16 << 30), .init(name: "b", vcpus: 1, ram: 16 << 30), .init(name: "c", vcpus: 8, ram: 16 << 30),
        ]) { $0.pass = .init(partitions: ["b", "c"]) }
        let first = try await world.submit(priority: 3)
        let second = try await world.submit(priority: 2)
        await world.tick()
        #expect(try world.job(of: first).partition == "b")
        #expect(try world.job(of: second).partition == "c")  // b is full now; a is not ours
        await world.close()
    }

    @Test func submitsPerRoundAndJobsAtOnceAreBounded() async throws {
        let world = try ExecutorWorld { $0.pass = .init(maxSubmitsPerRound: 2, maxJobs: 3) }
        for _ in 0..<6 { try await world.submit() }
        await world.tick()
        #expect(world.backend.jobs.count == 2)
        await world.tick()
        #expect(world.backend.jobs.count == 3)
        let waiting = try await world.store.list(ContainerQuery(states: [.queued])).items
        #expect(waiting.count == 3)
        let full = "waiting: 3 jobs of this dispatcher already submitted (executor max_jobs)"
        #expect(waiting.allSatisfy { $0.runtimeStatus.schedulingStatus == full })
        await world.close()
    }

    @Test func aPendingJobSaysWhereItWaits() async throws {
        let world = try ExecutorWorld()
        let uuid = try await world.submit()
        await world.tick(2)
        let job = try world.job(of: uuid)
        let status = try await world.get(uuid).runtimeStatus.schedulingStatus
        #expect(status == "submitted as job \(job.id) to partition batch; pending in the executor's queue")
        let queue = world.dispatcher.queue
        #expect(queue.map(\.uuid) == [uuid] && queue[0].state == "Pending as job \(job.id)")
        await world.close()
    }
}

extension ExecutorPlanningTests {
    @Test func explainJudgesEachAllowedPartitionAndPlacementsListTheJobs() async throws {
        let world = try ExecutorWorld(partitions: [
            .init(name: "small", vcpus: 4, ram: 8 << 30, maxJobVCPUs: 2, maxJobRAM: 4 << 30, maxRunTime: 600),
            .init(name: "big", vcpus: 64, ram: 256 << 30),
        ])
        let uuid = try await world.submit(vcpus: 4)
        await world.tick()
        world.backend.startPending()
        await world.tick()
        let verdicts = world.dispatcher.partitionVerdicts(for: try await world.get(uuid))
        #expect(verdicts.map(\.name) == ["small", "big"])
        #expect(verdicts.map(\.eligible) == [false, true])
        #expect(verdicts[0].reason == "takes at most 2 vCPUs, 4GiB, 10m a job")
        let placements = world.dispatcher.placements
        #expect(placements.map(\.partition) == ["big"] && placements[0].state == .running)
        #expect(placements[0].tags[world.dispatcher.containerTag] == uuid)
        #expect(world.dispatcher.queue.first?.state == "Running as job \(placements[0].id) on \(placements[0].where)")
        await world.close()
    }
}

/// The container a fake job belongs to (its token starts with the uuid).
enum JobToken {
    static func container(_ job: BackendJob) -> String { String(job.idempotencyToken.split(separator: ".")[0]) }
}
