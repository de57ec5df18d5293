import DriverHost
import Synchronization

/// An executor backend in memory, keeping the contract of cloud_dispatch_executor.h (tokens name
/// one submit, list shows jobs until released, cancel of an ended job is fine), with faults a
/// test turns on: lost submit answers, throttling, slow calls, failing lists, jobs ended behind
/// the host's back. Jobs start only when the test says so (`startPending`), on the clock the test
/// keeps.
///
///     let backend = FakeExecutorBackend(partitions: [.init(name: "batch", vcpus: 8, ram: 16 << 30)])
///     await dispatcher.tick(now: 0)
///     backend.startPending()
///     backend.end(backend.jobs[0].id, .exited, exitCode: 3)
public final class FakeExecutorBackend: ExecutorBackend {
    /// A partition's size: free room is its size minus the live jobs on it and `busyVCPUs`/`busyRAM`.
    public struct Partition: Sendable {
        public var name: String
        public var vcpus: Int
        public var ram: Int64
        public var maxJobVCPUs: Int
        public var maxJobRAM: Int64
        public var maxRunTime: Int
        /// Taken by other users of the cluster.
        public var busyVCPUs = 0
        public var busyRAM: Int64 = 0

        public init(name: String, vcpus: Int, ram: Int64, maxJobVCPUs: Int? = nil, maxJobRAM: Int64? = nil, maxRunTime: Int = 0) {
            self.name = name
            self.vcpus = vcpus
            self.ram = ram
            self.maxJobVCPUs = maxJobVCPUs ?? vcpus
            self.maxJobRAM = maxJobRAM ?? ram
            self.maxRunTime = maxRunTime
        }
    }

    /// Faults, read on every call.
    public struct Faults: Sendable {
        /// The next N submits make their job, then answer `transient` (the answer was lost).
        public var loseSubmitAnswers = 0
        /// The next N submits are refused with `rate_limit` and make nothing.
        public var throttleSubmits = 0
        /// The next N lists fail with `transient`.
        public var failLists = 0
        /// Every call takes this long first.
        public var slowCalls: Duration?
        /// Submits are refused with this class (and make nothing).
        public var refuseSubmits: ErrorClass?

        public init() {}
    }

    struct Record {
        var uuid: String
        var job: BackendJob
        var vcpus: Int
        var ram: Int64
        var released = false
    }

    struct State {
        var partitions: [Partition]
        var records: [Record] = []
        var byToken: [String: Int] = [:]
        var faults = Faults()
        var submitCalls = 0
        var cancelCalls: [String] = []
        var releaseCalls: [[String]] = []
        var nextID = 1000
    }

    public let dispatcherID: String
    public let executorID = "fake"
    private let state: Mutex<State>

    public init(dispatcherID: String = "test", partitions: [Partition]) {
        self.dispatcherID = dispatcherID
        self.state = Mutex(State(partitions: partitions))
    }

    // MARK: the test's levers and views

    public var faults: Faults {
        get { state.withLock { $0.faults } }
        set { state.withLock { $0.faults = newValue } }
    }

    public func setBusy(_ partition: String, vcpus: Int, ram: Int64) {
        state.withLock { s in
            guard let i = s.partitions.firstIndex(where: { $0.name == partition }) else { return }
            s.partitions[i].busyVCPUs = vcpus
            s.partitions[i].busyRAM = ram
        }
    }

    /// Every job made and not released, in submit order.
    public var jobs: [BackendJob] { state.withLock { $0.records.filter { !$0.released }.map(\.job) } }
    /// Every job ever made, released ones included.
    public var allJobs: [BackendJob] { state.withLock { $0.records.map(\.job) } }
    public var submitCalls: Int { state.withLock { $0.submitCalls } }
    public var cancelCalls: [String] { state.withLock { $0.cancelCalls } }
    /// The ids of each release call, in call order.
    public var releaseCalls: [[String]] { state.withLock { $0.releaseCalls } }

    public func jobs(of container: String) -> [BackendJob] {
        state.withLock { $0.records.filter { $0.uuid == container }.map(\.job) }
    }

    /// Starts every pending job (on node-1, node-2, ... in turn).
    public func startPending() {
        state.withLock { s in
            for i in s.records.indices where s.records[i].job.state == .pending {
                s.records[i].job.state = .running
                s.records[i].job.where = "node-\(i % 4 + 1)"
                s.records[i].job.startedAt = "2026-01-01T00:00:00Z"
            }
        }
    }

    /// Ends a job as the backend would report it (exit code only with `.exited`).
    public func end(_ jobID: String, _ reason: BackendJob.EndReason, exitCode: Int? = nil, message: String = "") {
        state.withLock { s in
            guard let i = s.records.firstIndex(where: { $0.job.id == jobID }) else { return }
            s.records[i].job.state = .ended
            s.records[i].job.endReason = reason
            s.records[i].job.exitCode = reason == .exited ? exitCode : nil
            s.records[i].job.message = message
            s.records[i].job.endedAt = "2026-01-01T00:01:00Z"
        }
    }

    /// Forgets a job without telling anybody (a cluster that lost its accounting).
    public func vanish(_ jobID: String) {
        state.withLock { s in
            if let i = s.records.firstIndex(where: { $0.job.id == jobID }) { s.records[i].released = true }
        }
    }

    // MARK: ExecutorBackend

    public func capacity() async throws(DriverError) -> [PartitionCapacity] {
        await slow()
        return state.withLock { s in
            s.partitions.map { p in
                let live = s.records.filter { !$0.released && $0.job.state != .ended && $0.job.partition == p.name }
                return PartitionCapacity(
                    name: p.name, totalVCPUs: p.vcpus, totalRAM: p.ram,
                    freeVCPUs: max(0, p.vcpus - p.busyVCPUs - live.reduce(0) { $0 + $1.vcpus }),
                    freeRAM: max(0, p.ram - p.busyRAM - live.reduce(0) { $0 + $1.ram }),
                    maxJobVCPUs: p.maxJobVCPUs, maxJobRAM: p.maxJobRAM, maxRunTime: p.maxRunTime)
            }
        }
    }

    public func submit(_ submission: JobSubmission) async throws(DriverError) -> BackendJob {
        await slow()
        let result: Result<BackendJob, DriverError> = state.withLock { s in
            s.submitCalls += 1
            func fail(_ c: ErrorClass, _ m: String) -> Result<BackendJob, DriverError> {
                .failure(DriverError(c, m, driver: executorID, operation: "submit"))
            }
            if s.faults.throttleSubmits > 0 {
                s.faults.throttleSubmits -= 1
                return fail(.rateLimit, "slow down")
            }
            if let refused = s.faults.refuseSubmits { return fail(refused, "refused by the test") }
            if let i = s.byToken[submission.idempotencyToken] {
                guard s.records[i].uuid == submission.container.uuid else { return fail(.invalid, "token used for another container") }
                return .success(s.records[i].job)
            }
            guard let p = s.partitions.first(where: { $0.name == submission.partition }) else {
                return fail(.invalid, "no partition \(submission.partition)")
            }
            let c = submission.container
            if c.vcpus > p.maxJobVCPUs || c.ram > p.maxJobRAM { return fail(.invalid, "too big for \(p.name)") }
            let live = s.records.filter { !$0.released && $0.job.state != .ended && $0.job.partition == p.name }
            if c.vcpus > p.vcpus - p.busyVCPUs - live.reduce(0, { $0 + $1.vcpus }) || c.ram > p.ram - p.busyRAM - live.reduce(0, { $0 + $1.ram }) {
                return fail(.capacityType, "partition \(p.name) is full")
            }
            s.nextID += 1
            let job = BackendJob(
                id: "\(s.nextID)", idempotencyToken: submission.idempotencyToken, partition: p.name, state: .pending,
                tags: submission.tags, submittedAt: "2026-01-01T00:00:00Z")
            s.records.append(Record(uuid: c.uuid, job: job, vcpus: c.vcpus, ram: c.ram))
            s.byToken[submission.idempotencyToken] = s.records.count - 1
            if s.faults.loseSubmitAnswers > 0 {
                s.faults.loseSubmitAnswers -= 1
                return fail(.transient, "the answer was lost")
            }
            return .success(job)
        }
        return try result.get()
    }

    public func list(tags: [String: String]) async throws(DriverError) -> [BackendJob] {
        await slow()
        let failing = state.withLock { s in
            guard s.faults.failLists > 0 else { return false }
            s.faults.failLists -= 1
            return true
        }
        if failing { throw DriverError(.transient, "list failed", driver: executorID, operation: "list") }
        return jobs.filter { job in tags.allSatisfy { job.tags[$0.key] == $0.value } }
    }

    public func cancel(jobID: String, grace: Duration) async throws(DriverError) {
        await slow()
        let known: Bool = state.withLock { s in
            s.cancelCalls.append(jobID)
            guard let i = s.records.firstIndex(where: { $0.job.id == jobID }) else { return false }
            if s.records[i].job.state != .ended {
                s.records[i].job.state = .ended
                s.records[i].job.endReason = .cancelled
                s.records[i].job.exitCode = nil
            }
            return true
        }
        if !known { throw DriverError(.notFound, "no job \(jobID)", driver: executorID, operation: "cancel") }
    }

    public func release(jobIDs: [String]) async throws(DriverError) {
        await slow()
        state.withLock { s in
            s.releaseCalls.append(jobIDs)
            for i in s.records.indices where jobIDs.contains(s.records[i].job.id) && s.records[i].job.state == .ended {
                s.records[i].released = true
            }
        }
    }

    public func logTail(jobID: String, maxBytes: Int) async throws(DriverError) -> String {
        await slow()
        return String("output of job \(jobID)\n".suffix(maxBytes))
    }

    public func close() async {}

    private func slow() async {
        if let delay = state.withLock({ $0.faults.slowCalls }) { try? await Task.sleep(for: delay) }
    }
}
