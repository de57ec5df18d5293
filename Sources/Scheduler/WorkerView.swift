/// What the scheduler needs to know of a worker (an instance of this dispatcher).
public struct WorkerView: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Found in the cloud (after a restart), not yet probed.
        case unknown
        /// Being created or booting; not yet reachable.
        case booting
        /// Ready, running nothing.
        case idle
        /// Ready, running at least one container.
        case running
        /// Being destroyed.
        case shutdown
    }

    /// What may happen to an idle worker (saved as a tag, so it survives restarts).
    public enum IdleBehavior: String, Sendable, Hashable, CaseIterable {
        /// Normal: takes containers, shut down after the idle timeout.
        case run
        /// Operator's hold: takes no new containers, never shut down automatically.
        case hold
        /// Takes no new containers; shut down once idle.
        case drain
    }

    public var id: String
    /// The configured instance-type name (from its tag).
    public var typeName: String
    public var state: State
    public var idleBehavior: IdleBehavior
    /// When it last ran something (or was created); seconds on the scheduler's clock.
    public var lastBusy: Double
    /// GPU devices taken by the containers on it.
    public var gpuDevicesInUse: Set<Int>
    /// It has never run anything: it was made for work, so it is served first (before busy
    /// workers), lest it boot only to be shut down unused.
    public var fresh: Bool

    public init(
        id: String, typeName: String, state: State, idleBehavior: IdleBehavior = .run, lastBusy: Double,
        gpuDevicesInUse: Set<Int> = [], fresh: Bool = false
    ) {
        self.fresh = fresh
        self.id = id
        self.typeName = typeName
        self.state = state
        self.idleBehavior = idleBehavior
        self.lastBusy = lastBusy
        self.gpuDevicesInUse = gpuDevicesInUse
    }
}

/// Limits on what the scheduler may create and keep.
public struct Limits: Sendable, Hashable {
    public var maxInstances: Int
    /// Sum of hourly prices of all instances (booting ones included); nil: no cap.
    public var maxHourlySpend: Double?
    public var maxConcurrentCreates: Int
    public var maxContainersPerInstance: Int
    /// Seconds an instance may stay idle before it is shut down.
    public var idleTimeout: Double

    public init(
        maxInstances: Int = 64, maxHourlySpend: Double? = nil, maxConcurrentCreates: Int = 8,
        maxContainersPerInstance: Int = 16, idleTimeout: Double = 60
    ) {
        self.maxInstances = maxInstances
        self.maxHourlySpend = maxHourlySpend
        self.maxConcurrentCreates = maxConcurrentCreates
        self.maxContainersPerInstance = maxContainersPerInstance
        self.idleTimeout = idleTimeout
    }
}
