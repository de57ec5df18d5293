import DriverHost
import ExecutorPool
import Foundation
import Logging
import Queue
import SQLiteQueue
import TestSupport

/// A queue (SQLite in a temporary folder), a fake backend, and a dispatcher over both; a
/// "restart" is a new dispatcher on the same store and backend.
struct ExecutorWorld {
    let folder = Harness.temporaryFolder()
    let store: SQLiteContainerStore
    let backend: FakeExecutorBackend
    var settings: ExecutorDispatcher.Settings
    var dispatcher: ExecutorDispatcher

    init(
        partitions: [FakeExecutorBackend.Partition] = [.init(name: "batch", vcpus: 8, ram: 16 << 30)], maxAttempts: Int = 5,
        configure: (inout ExecutorDispatcher.Settings) -> Void = { _ in }
    ) throws {
        store = try SQLiteContainerStore.open(path: folder + "/queue.sqlite3", policy: QueuePolicy(maxDispatchAttempts: maxAttempts))
        backend = FakeExecutorBackend(dispatcherID: "exec-test", partitions: partitions)
        settings = ExecutorDispatcher.Settings()
        settings.callTimeout = .seconds(30)
        configure(&settings)
        dispatcher = ExecutorDispatcher(id: "exec-test", store: store, backend: backend, settings: settings, logger: Self.logger)
    }

    static let logger: Logger = {
        var l = Logger(label: "executor-test")
        l.logLevel = .critical
        return l
    }()

    /// A new dispatcher process on the same queue and backend (what it kept in memory is gone).
    mutating func restart() {
        dispatcher = ExecutorDispatcher(id: "exec-test", store: store, backend: backend, settings: settings, logger: Self.logger)
    }

    @discardableResult
    func submit(
        _ command: String = "true", priority: Int = 1, vcpus: Int = 1, ram: Int64 = 1 << 30, maxRunTime: Int = 0
    ) async throws -> String {
        let spec = ContainerSpec(
            command: [command], priority: priority, runtimeConstraints: RuntimeConstraints(vcpus: vcpus, ram: ram),
            schedulingParameters: SchedulingParameters(maxRunTime: maxRunTime))
        return try await store.submit([spec])[0].uuid
    }

    func get(_ uuid: String) async throws -> Container { try await store.get(uuid) }

    func tick(_ n: Int = 1) async {
        for _ in 0..<n { await dispatcher.tick(now: 0) }
    }

    /// The one job of a container (a test fails if there are more or none).
    func job(of uuid: String) throws -> BackendJob {
        let jobs = backend.jobs(of: uuid)
        guard jobs.count == 1 else { throw WorldError.jobCount(uuid, jobs.count) }
        return jobs[0]
    }

    enum WorldError: Error { case jobCount(String, Int) }

    func close() async {
        await store.close()
        try? FileManager.default.removeItem(atPath: folder)
    }
}
