import API
import APIModels
import DriverHost
import Foundation
import Queue
import Scheduler
import WorkerPool

/// The management API's view of this process's dispatcher.
struct PoolManagement: ManagementService {
    let dispatcher: Dispatcher
    /// The runner binary deployed to workers.
    let runnerPath: String
    /// This daemon's right to act as its dispatcher id.
    let lease: any DispatcherLease
    /// The driver: one in a driver process reports how often that process died.
    var driver: (any CloudDriver)?

    func instances() async -> [InstanceSummary] {
        let now = Date().timeIntervalSince1970
        return await dispatcher.pool.snapshots().map { Self.summary($0, now: now) }
    }

    func setIdleBehavior(_ behavior: String, instance id: String) async throws(ManagementError) -> InstanceSummary {
        guard let wanted = WorkerView.IdleBehavior(rawValue: behavior), await dispatcher.pool.snapshot(of: id) != nil else {
            throw .unknownInstance(id)
        }
        await dispatcher.pool.setBehavior(id, wanted)
        guard let updated = await dispatcher.pool.snapshot(of: id) else { throw .unknownInstance(id) }
        return Self.summary(updated, now: Date().timeIntervalSince1970)
    }

    func kill(instance id: String, reason: String) async throws(ManagementError) {
        guard await dispatcher.pool.snapshot(of: id) != nil else { throw .unknownInstance(id) }
        await dispatcher.kill(instance: id, reason: reason, now: Date().timeIntervalSince1970)
    }

    func queue() async -> [QueueEntry] {
        dispatcher.queue.enumerated().map { i, c in
            QueueEntry(
                position: i + 1, uuid: c.uuid, state: c.state, priority: c.priority, eligibleTypes: c.eligibleTypes, schedulingStatus: c.status)
        }
    }

    func explain(_ uuid: String) async throws(ManagementError) -> ContainerExplanation {
        let c: Container
        do {
            c = try await dispatcher.queueStore.get(uuid)
        } catch {
            if case .notFound = error { throw .unknownContainer(uuid) }
            throw .unavailable("the queue cannot answer: \(error)")
        }
        let verdicts = await dispatcher.verdicts(for: c, now: Date().timeIntervalSince1970)
        let queue = dispatcher.queue
        let index = queue.firstIndex { $0.uuid == uuid }
        return ContainerExplanation(
            c, status: index.map { queue[$0].status } ?? c.runtimeStatus.schedulingStatus, position: index.map { $0 + 1 }, queueLength: queue.count,
            types: verdicts.map { .init(name: $0.type.name, price: $0.type.price, eligible: $0.eligible, reason: $0.reason, blocked: $0.blocked) })
    }

    func health() async -> [String: String] {
        var parts: [String: String] = [:]
        parts["driver"] = await dispatcher.pool.lastListError.map { "failing: \($0)" } ?? "ok"
        parts["lease"] = lease.problem ?? "ok"
        if let isolated = driver as? ProcessDriver { parts["driver_process"] = await isolated.health }
        let backoff = await dispatcher.pool.backoff
        parts["boot"] = backoff.boot.problem(now: Date().timeIntervalSince1970) ?? "ok"
        parts["creates"] = backoff.createProblem ?? "ok"
        parts["runner"] =
            FileManager.default.isReadableFile(atPath: runnerPath) ? "ok, \(runnerPath)" : "missing: \(runnerPath) (workers that have it keep it)"
        return parts
    }

    static func summary(_ w: WorkerSnapshot, now: Double) -> InstanceSummary {
        InstanceSummary(
            id: w.instance.id, address: w.instance.address + (w.instance.sshPort.map { ":\($0)" } ?? ""), instanceType: w.typeName,
            providerType: w.instance.providerType, price: w.price, workerState: w.state.rawValue, idleBehavior: w.behavior.rawValue,
            runningContainers: w.running, lastBusy: Date(timeIntervalSince1970: w.lastBusy), ageSeconds: max(0, now - w.appeared))
    }
}
