import Scheduler
import Testing

/// The executor pass: a pure function of the queue, the backend's reported room and the settings.
@Suite struct ExecutorPassTests {
    let batch = ExecutorPass.Partition(name: "batch", freeVCPUs: 4, freeRAM: 8 * GiB, maxJobVCPUs: 4, maxJobRAM: 8 * GiB, maxRunTime: 3600)
    let big = ExecutorPass.Partition(name: "big", freeVCPUs: 0, freeRAM: 0, maxJobVCPUs: 64, maxJobRAM: 512 * GiB)

    @Test func lockedFirstThenPriorityThenAgeWithinTheReportedRoom() {
        let plan = ExecutorPass.plan(
            containers: [
                demand("old", at: 1, vcpus: 2), demand("urgent", priority: 9, at: 5, vcpus: 2), demand("held", .locked, at: 9, vcpus: 2),
                demand("young", at: 3, vcpus: 2),
            ], partitions: [batch], settings: .init())
        #expect(
            plan.submits == [.init(uuid: "held", partition: "batch", needsLock: false), .init(uuid: "urgent", partition: "batch", needsLock: true)])
        #expect(plan.statuses["old"] == "waiting for room on partition batch: needs 2 vCPUs, 1GiB; 0 vCPUs, 6GiB free")
        #expect(plan.cancels.isEmpty)
    }

    @Test func runningJobsAreNotPlannedAndTheirRoomIsTheBackendsToReport() {
        let plan = ExecutorPass.plan(
            containers: [demand("r", .running(worker: "17"), vcpus: 4), demand("q", vcpus: 4)], partitions: [batch], settings: .init())
        #expect(plan.submits.map(\.uuid) == ["q"])  // free room is as reported: the running job is already counted there
    }

    @Test func tooBigForEveryPartitionIsCancelledWithEachLimitNamed() {
        var long = demand("long", vcpus: 1)
        long.maxRunTime = 7200
        let plan = ExecutorPass.plan(containers: [long, demand("huge", vcpus: 128)], partitions: [batch, big], settings: .init())
        #expect(plan.cancels.map(\.id) == ["huge"])
        #expect(
            plan.cancels[0].reason
                == "needs 128 vCPUs, 1GiB; more than any partition allows (batch: at most 4 vCPUs, 8GiB, 1h; big: at most 64 vCPUs, 512GiB)")
        #expect(plan.statuses["long"] == "waiting for room on partition big: needs 1 vCPUs, 1GiB; 0 vCPUs, 0B free")
    }

    @Test func noReportedPartitionJudgesNobodyTooBig() {
        let plan = ExecutorPass.plan(containers: [demand("a", vcpus: 128)], partitions: [batch], settings: .init(partitions: ["gpu"]))
        #expect(plan.cancels.isEmpty && plan.submits.isEmpty)
        #expect(plan.statuses["a"] == "waiting: the executor backend reports none of the configured partitions (gpu); it has batch")
    }

    @Test func priorityZeroWaits() {
        let plan = ExecutorPass.plan(containers: [demand("z", priority: 0)], partitions: [batch], settings: .init())
        #expect(plan.submits.isEmpty && plan.statuses["z"] == "priority 0: not run until its priority is raised")
    }
}
