/// What the scheduler needs to know of a container.
public struct ContainerDemand: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        case queued
        /// Locked by this dispatcher, not yet running.
        case locked
        /// Running on a worker of this dispatcher.
        case running(worker: String)
    }

    public var uuid: String
    public var state: State
    public var priority: Int
    /// When it was submitted (earlier first among equal priorities).
    public var createdAt: Double
    public var needs: Resources
    public var gpuStack: String
    public var gpuVRAM: Int64
    public var preemptible: Bool
    /// Allowed instance-type names; empty means any.
    public var allowedTypes: [String]
    /// Cancelled (or priority 0) while running: it must be stopped.
    public var shouldStop: Bool
    /// Seconds it may run; 0: no limit (an executor backend's partition may cap it).
    public var maxRunTime: Int = 0

    public init(
        uuid: String, state: State, priority: Int, createdAt: Double, needs: Resources, gpuStack: String = "",
        gpuVRAM: Int64 = 0, preemptible: Bool = false, allowedTypes: [String] = [], shouldStop: Bool = false
    ) {
        self.uuid = uuid
        self.state = state
        self.priority = priority
        self.createdAt = createdAt
        self.needs = needs
        self.gpuStack = gpuStack
        self.gpuVRAM = gpuVRAM
        self.preemptible = preemptible
        self.allowedTypes = allowedTypes
        self.shouldStop = shouldStop
    }

    /// The part of a demand that decides which types fit (containers that share it share the
    /// answer, so it is computed once per shape, not once per container).
    var shape: Shape { Shape(needs: needs, gpuStack: gpuStack, gpuVRAM: gpuVRAM, preemptible: preemptible, allowedTypes: allowedTypes) }

    struct Shape: Hashable {
        var needs: Resources
        var gpuStack: String
        var gpuVRAM: Int64
        var preemptible: Bool
        var allowedTypes: [String]
    }
}
