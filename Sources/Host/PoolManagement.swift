import API
import Foundation
import Scheduler
import WorkerPool

/// The management API's view of this process's dispatcher.
struct PoolManagement: ManagementService {
    let dispatcher: Dispatcher

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
            QueueEntry(position: i + 1, uuid: c.uuid, state: c.state, priority: c.priority, eligibleTypes: c.eligibleTypes, schedulingStatus: c.status)
        }
    }

    static func summary(_ w: WorkerSnapshot, now: Double) -> InstanceSummary {
        InstanceSummary(id: w.instance.id, address: w.instance.address + (w.instance.sshPort.map { ":\($0)" } ?? ""), instanceType: w.typeName,
                        providerType: w.instance.providerType, price: w.price, workerState: w.state.rawValue, idleBehavior: w.behavior.rawValue,
                        runningContainers: w.running, lastBusy: Date(timeIntervalSince1970: w.lastBusy), ageSeconds: max(0, now - w.appeared))
    }
}
