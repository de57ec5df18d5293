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
