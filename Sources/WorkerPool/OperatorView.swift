import DriverHost
import Scheduler

/// One instance of the pool as an operator sees it.
public struct WorkerSnapshot: Sendable {
    public var instance: Instance
    public var typeName: String
    public var price: Double
    public var state: WorkerView.State
    public var behavior: WorkerView.IdleBehavior
    public var running: [String]
    public var lastBusy: Double
    public var appeared: Double
}

/// One container in the scheduler's order, as the last round saw it.
public struct ScheduledContainer: Sendable {
    public var uuid: String
    public var state: String
    public var priority: Int
    public var eligibleTypes: [String]
    public var status: String?

    public init(uuid: String, state: String, priority: Int, eligibleTypes: [String], status: String?) {
        self.uuid = uuid
        self.state = state
        self.priority = priority
        self.eligibleTypes = eligibleTypes
        self.status = status
    }
}

extension WorkerPool {
    /// Every instance, sorted by id.
    public func snapshots() -> [WorkerSnapshot] {
        workers.values.sorted { $0.instance.id < $1.instance.id }.map { w in
            WorkerSnapshot(
                instance: w.instance, typeName: w.typeName, price: types[w.typeName]?.price ?? 0, state: w.state,
                behavior: w.behavior, running: w.running.keys.sorted(), lastBusy: w.lastBusy, appeared: w.appeared)
        }
    }

    public func snapshot(of id: String) -> WorkerSnapshot? { snapshots().first { $0.instance.id == id } }

    /// An operator's kill: the instance is shut down now; returns the containers that ran there.
    public func kill(_ id: String, reason: String, now: Double) async -> [String] {
        guard let w = workers[id] else { return [] }
        let lost = w.running.keys.sorted()
        noteEnded(lost, on: w)
        workers[id]?.running = [:]
        workers[id]?.gpus = [:]
        await shutdown(id, reason: reason, now: now)
        return lost
    }
}
