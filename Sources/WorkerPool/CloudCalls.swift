import DriverHost

/// What the pool asked of the cloud: a count per operation, and (when `keepGrants`) when each
/// call got its token — tests check those against the bucket's rate.
public struct CloudCalls: Sendable {
    public enum Operation: String, Sendable, Hashable, CaseIterable { case create, list, destroy, setTags }

    public var counts: [Operation: Int] = [:]
    /// Instances asked for in create calls, and ids sent in destroy calls.
    public var instancesRequested = 0
    public var idsDestroyed = 0
    public var grants: [Double] = []
    var keepGrants = false

    mutating func note(_ op: Operation, at time: Double) {
        counts[op, default: 0] += 1
        if keepGrants { grants.append(time) }
    }
}

extension WorkerPool.Settings {
    /// Takes the driver's batch sizes (`max_create_count`, `max_destroy_batch`).
    public mutating func use(_ capabilities: Capabilities) {
        maxCreateCount = max(1, capabilities.maxCreateCount)
        maxDestroyBatch = max(1, capabilities.maxDestroyBatch)
    }
}

extension WorkerPool {
    /// Waits for a token of the shared bucket, on the pool's clock; returns when the call may go.
    @discardableResult
    func paced(_ op: CloudCalls.Operation) async -> Double {
        let at = bucket.reserve(now: clock.now)
        calls.note(op, at: at)
        await clock.sleep(until: at)
        return at
    }
}
