import Scheduler

/// What the pool holds at one moment, for metrics and operators: one actor hop, then plain values.
public struct PoolSnapshot: Sendable {
    public struct Worker: Sendable {
        public var id: String
        public var typeName: String
        public var state: WorkerView.State
        public var idleBehavior: WorkerView.IdleBehavior
        /// When it appeared in the pool (created, or adopted after a restart).
        public var appeared: Double
        /// Created by this process (its boot is timed), not adopted after a restart.
        public var createdHere: Bool
        /// Its last answer to a probe; nil: never answered.
        public var lastAnswer: Double?
        public var destroyedAt: Double?
        /// Running containers and when each started.
        public var running: [String: Double]
        /// From its configured type; 0 when the type is no longer configured.
        public var vcpus: Int
        public var ram: Int64
        public var price: Double
    }

    public var workers: [Worker]
    public var accounting: WorkerPool.Accounting
    public var backoff: Backoff
    public var bootTimeout: Double
}

extension WorkerPool {
    public func snapshot(now: Double) -> PoolSnapshot {
        let list = workers.values.sorted { $0.instance.id < $1.instance.id }.map { w in
            let type = types[w.typeName]
            return PoolSnapshot.Worker(
                id: w.instance.id, typeName: w.typeName, state: w.state, idleBehavior: w.behavior,
                appeared: w.appeared, createdHere: w.createdHere, lastAnswer: w.lastAnswer, destroyedAt: w.destroyedAt, running: w.running,
                vcpus: type?.vcpus ?? 0, ram: type?.ram ?? 0, price: type?.price ?? 0)
        }
        return PoolSnapshot(workers: list, accounting: accounting(now: now), backoff: backoff, bootTimeout: settings.bootTimeout)
    }
}
