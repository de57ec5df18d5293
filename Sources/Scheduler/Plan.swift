/// What one scheduling pass decided. The pool and the queue carry it out, in this order:
/// cancels, stops, unlocks, locks, starts, creates, shutdowns; statuses go to the queue.
public struct Plan: Sendable, Hashable {
    public struct Start: Sendable, Hashable {
        public var uuid: String
        public var worker: String
        /// GPU device indices on that worker.
        public var gpuDevices: [Int]
        /// Queued when planned: lock it first, and start only if the lock succeeds.
        public var needsLock: Bool

        public init(uuid: String, worker: String, gpuDevices: [Int], needsLock: Bool) {
            self.uuid = uuid
            self.worker = worker
            self.gpuDevices = gpuDevices
            self.needsLock = needsLock
        }
    }

    public struct Reasoned: Sendable, Hashable {
        public var id: String
        public var reason: String

        public init(id: String, reason: String) {
            self.id = id
            self.reason = reason
        }
    }

    /// Queued containers to lock (those about to start, or waiting for an instance).
    public var locks: [String] = []
    /// Locked containers to give back (the cloud is at quota).
    public var unlocks: [Reasoned] = []
    public var starts: [Start] = []
    /// New instances, by instance-type name.
    public var creates: [String: Int] = [:]
    /// Running containers to stop (cancelled, or priority 0), by container uuid.
    public var stops: [Reasoned] = []
    /// Containers nothing can run, with the reason.
    public var cancels: [Reasoned] = []
    /// Workers to destroy, with the reason.
    public var shutdowns: [Reasoned] = []
    /// Workers to switch to drain (their instance type is no longer configured).
    public var drains: [String] = []
    /// Why each waiting container waits.
    public var statuses: [String: String] = [:]

    public init() {}

    /// Decisions made: one per container placed, refused or explained, and one per instance action.
    public var decisionCount: Int {
        starts.count + cancels.count + stops.count + statuses.count + shutdowns.count + creates.values.reduce(0, +)
    }
}

extension Plan {
    /// This plan, made from a read of the queue taken before the `placed` containers started on
    /// `workers` between rounds (see `FreeRoom`), with nothing left that could collide with them:
    /// their own locks, starts and statuses; every start on those workers (the pass counted their
    /// room without the newcomers) and its lock, so that container waits for the next pass
    /// still queued; shutdowns of those workers; and the creates, if one of the newcomers was to
    /// wait for a new instance (the next pass plans them again without it).
    public func yielding(toArrivals placed: Set<String>, on workers: Set<String>) -> Plan {
        guard !placed.isEmpty || !workers.isEmpty else { return self }
        var out = self
        let collides = { (start: Start) in placed.contains(start.uuid) || workers.contains(start.worker) }
        out.starts = starts.filter { !collides($0) }
        let unlocked = placed.union(starts.filter { collides($0) && $0.needsLock }.map(\.uuid))
        out.locks = locks.filter { !unlocked.contains($0) }
        let startedNow = Set(starts.map(\.uuid))
        if locks.contains(where: { placed.contains($0) && !startedNow.contains($0) }) { out.creates = [:] }
        out.shutdowns = shutdowns.filter { !workers.contains($0.id) }
        for uuid in placed { out.statuses[uuid] = nil }
        return out
    }
}
