import DriverHost
import Foundation
import Synchronization

/// Certifies a loaded executor backend against the executor ABI: the checks of
/// `cloud-dispatch executor-test`. Every job it submits carries the tag
/// `cdx-conformance-run: <run id>` under its own dispatcher id, and at the end every one is
/// cancelled and released — after a failed check and after cancellation (Ctrl-C) too — so a
/// run against a real cluster leaves nothing queued or running.
///
///     let kit = ExecutorKit(executor: loaded, config: #"{"partition": "debug"}"#)
///     let report = await kit.run()
///     print(report.table())          // one PASS/FAIL/SKIP line per check
///
/// The jobs are plain commands every backend can run: `true`, `sh -c "exit 3"`, `sleep 300`
/// (cancelled), `echo`.
public struct ExecutorKit: Sendable {
    public var executor: NativeExecutor
    public var config: String
    /// Dispatcher id the kit opens the backend for; keep it apart from any production one.
    public var dispatcherID = "cdx-conformance"
    /// Partition to submit to; default: the first one capacity lists that can take a 1-vCPU job.
    public var partition: String?
    /// How long a job may take to reach the state a check waits for (a busy cluster queues).
    public var settle: Duration = .seconds(120)
    /// How long cleanup keeps cancelling, listing and releasing before it names what is left.
    public var cleanupDeadline: Duration = .seconds(300)
    public var retryDelay = RetryDelay(initial: .milliseconds(200), cap: .seconds(5))
    /// Submits the concurrency check makes at once.
    public var concurrentClients = 8
    /// Called as each check finishes.
    public var progress: @Sendable (CheckResult) -> Void = { _ in }

    public static let runTag = "cdx-conformance-run"
    public static let kitTag = "cdx-conformance"
    public static let checkTag = "cdx-conformance-check"

    public init(executor: NativeExecutor, config: String) {
        self.executor = executor
        self.config = config
    }

    public func run() async -> ConformanceReport {
        let recorder = Recorder(progress: progress)
        let runID = "run-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let session = ExecutorSession(kit: self, recorder: recorder, runID: runID)
        await session.runChecks()
        let interrupted = Task.isCancelled
        // Cleanup runs even when the run was cancelled: in a task of its own.
        await Task.detached { await session.cleanUp() }.value
        var report = ConformanceReport(
            driver: executor.info.id, checks: await recorder.results, interrupted: interrupted, leftovers: session.state.leftovers)
        report.kind = "executor"
        return report
    }
}

/// One executor run's state: the open backend and every job submitted.
final class ExecutorSession: Sendable {
    let kit: ExecutorKit
    let recorder: Recorder
    let runID: String
    let state = ExecutorRunState()

    init(kit: ExecutorKit, recorder: Recorder, runID: String) {
        self.kit = kit
        self.recorder = recorder
        self.runID = runID
    }

    var executor: NativeExecutor { kit.executor }

    /// The tags of every job of this run, marked with the check that submitted it.
    func tags(check: String) -> [String: String] {
        [ExecutorKit.kitTag: "1", ExecutorKit.runTag: runID, ExecutorKit.checkTag: check]
    }

    func check(_ name: String, _ body: () async throws -> String) async {
        await recorder.check(name, body)
    }

    func runChecks() async {
        var capabilities: ExecutorCapabilities?
        await check("negotiate") { "agreed ABI \(executor.info.abi) (host \(ABIVersion.executorHost))" }
        await check("capabilities") {
            let c = try await executor.capabilities()
            capabilities = c
            return "idempotent_submit=\(c.idempotentSubmit) images=\(c.images) log_tail=\(c.logTail)"
        }
        await check("open_backend rejects malformed config") {
            for bad in ["not json", "[]", Session.withUnknownKey(kit.config)] {
                do {
                    let backend = try await executor.openNativeBackend(dispatcherID: kit.dispatcherID + "-bad", config: bad)
                    await backend.close()
                    throw CheckFailure("accepted config \(bad.prefix(60))")
                } catch let error as DriverError where error.errorClass == .invalid {
                    continue
                } catch let error as DriverError {
                    throw CheckFailure("config \(bad.prefix(40)) gave \(error.errorClass.name), expected invalid")
                }
            }
            return "3 malformed configs refused as invalid"
        }
        await check("open_backend") {
            state.backend = try await executor.openNativeBackend(dispatcherID: kit.dispatcherID, config: kit.config)
            return "dispatcher \(kit.dispatcherID)"
        }
        guard let backend = state.backend else { return }
        var partition: PartitionCapacity?
        await check("capacity is well-formed") {
            let partitions = try await backend.capacity()
            partition = try Self.choosePartition(partitions, wanted: kit.partition)
            return "\(partitions.count) partitions; using \(partition!.name) (\(partition!.freeVCPUs)/\(partition!.totalVCPUs) vCPUs free)"
        }
        guard let partition, let capabilities else { return }
        await JobChecks(session: self, backend: backend, partition: partition, capabilities: capabilities).run()
    }

    /// Checks every partition's numbers and picks the one to use.
    static func choosePartition(_ partitions: [PartitionCapacity], wanted: String?) throws -> PartitionCapacity {
        guard !partitions.isEmpty else { throw CheckFailure("no partitions") }
        let names = partitions.map(\.name)
        if Set(names).count != names.count { throw CheckFailure("a partition is listed twice: \(names.joined(separator: ", "))") }
        for p in partitions {
            if p.freeVCPUs > p.totalVCPUs || p.freeRAM > p.totalRAM {
                throw CheckFailure("\(p.name): more free than total (vCPUs \(p.freeVCPUs)/\(p.totalVCPUs), RAM \(p.freeRAM)/\(p.totalRAM))")
            }
            if p.maxJobVCPUs > p.totalVCPUs || p.maxJobRAM > p.totalRAM {
                throw CheckFailure("\(p.name): one job may have more than the whole partition")
            }
        }
        if let wanted {
            guard let match = partitions.first(where: { $0.name == wanted }) else {
                throw CheckFailure("no partition \(wanted) (have \(names.joined(separator: ", ")))")
            }
            return match
        }
        guard let usable = partitions.first(where: { $0.maxJobVCPUs >= 1 && $0.maxJobRAM >= JobChecks.jobRAM }) else {
            throw CheckFailure("no partition takes a 1-vCPU, \(JobChecks.jobRAM >> 20) MiB job")
        }
        return usable
    }

    /// Jobs a submit returned: cleanup must see them cancelled and released.
    func remember(_ job: BackendJob) { state.submitted.withLock { _ = $0.insert(job.id) } }

    /// Cancels and releases every job of this run, and any the kit left in this dispatcher
    /// before, until the listing shows none or the cleanup deadline passes.
    func cleanUp() async {
        let backend: NativeBackend?
        if let open = state.backend {
            backend = open
        } else {
            backend = try? await executor.openNativeBackend(dispatcherID: kit.dispatcherID, config: kit.config)
        }
        guard let backend else { return }
        await check("cleanup") {
            let submitted = state.submitted.withLock { $0 }
            let cleanup = ExecutorCleanup(
                backend: backend, filter: [ExecutorKit.kitTag: "1"], submitted: submitted, deadline: kit.cleanupDeadline,
                backoff: kit.retryDelay)
            let outcome = await cleanup.run()
            guard outcome.leftovers.isEmpty else {
                state.leftovers = outcome.leftovers
                throw CheckFailure("\(outcome.leftovers.count) jobs left: \(outcome.leftovers.joined(separator: " ")); \(outcome.reason)")
            }
            return "\(outcome.cancelled) cancelled, \(outcome.released) released; none remain"
        }
        await backend.close()
    }
}

/// The open backend and what the run submitted, shared by the checks and the cleanup.
final class ExecutorRunState: Sendable {
    private let storage = Mutex<NativeBackend?>(nil)
    private let left = Mutex<[String]>([])
    /// Ids of every job a submit returned.
    let submitted = Mutex<Set<String>>([])

    var backend: NativeBackend? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }

    /// Jobs cleanup could not get rid of.
    var leftovers: [String] {
        get { left.withLock { $0 } }
        set { left.withLock { $0 = newValue } }
    }
}
