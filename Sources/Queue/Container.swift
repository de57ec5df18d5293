import Foundation

/// The lifecycle of a container (see `Transition` for the table).
public enum ContainerState: String, Codable, Sendable, CaseIterable {
    case queued = "Queued"
    case locked = "Locked"
    case running = "Running"
    case complete = "Complete"
    case cancelled = "Cancelled"

    /// Complete and Cancelled never change again.
    public var isFinal: Bool { self == .complete || self == .cancelled }
}

/// GPUs a container needs.
public struct GPURequirement: Codable, Sendable, Hashable {
    public var count: Int
    /// "cuda" or "rocm"; empty when count is 0.
    public var stack: String
    /// Bytes of device memory per GPU, at least.
    public var vram: Int64

    public init(count: Int = 0, stack: String = "", vram: Int64 = 0) {
        self.count = count
        self.stack = stack
        self.vram = vram
    }
}

/// What a container needs from the instance it runs on.
public struct RuntimeConstraints: Codable, Sendable, Hashable {
    public var vcpus: Int
    /// Bytes.
    public var ram: Int64
    /// Bytes of local disk.
    public var scratch: Int64
    public var gpu: GPURequirement

    public init(vcpus: Int = 1, ram: Int64 = 256 << 20, scratch: Int64 = 0, gpu: GPURequirement = GPURequirement()) {
        self.vcpus = vcpus
        self.ram = ram
        self.scratch = scratch
        self.gpu = gpu
    }
}

/// How a container may be scheduled.
public struct SchedulingParameters: Codable, Sendable, Hashable {
    public var preemptible: Bool
    /// Seconds; 0 means no limit.
    public var maxRunTime: Int
    /// Configured instance-type names the container may run on; empty means any.
    public var instanceTypes: [String]

    public init(preemptible: Bool = false, maxRunTime: Int = 0, instanceTypes: [String] = []) {
        self.preemptible = preemptible
        self.maxRunTime = maxRunTime
        self.instanceTypes = instanceTypes
    }

    enum CodingKeys: String, CodingKey {
        case preemptible
        case maxRunTime = "max_run_time"
        case instanceTypes = "instance_types"
    }
}

/// What the dispatcher reports about a container in words.
public struct RuntimeStatus: Codable, Sendable, Hashable {
    /// Why it failed or was cancelled.
    public var error: String?
    public var warning: String?
    /// Why it is still waiting ("waiting for a c5.large instance to boot").
    public var schedulingStatus: String?

    public init(error: String? = nil, warning: String? = nil, schedulingStatus: String? = nil) {
        self.error = error
        self.warning = warning
        self.schedulingStatus = schedulingStatus
    }

    enum CodingKeys: String, CodingKey {
        case error, warning
        case schedulingStatus = "scheduling_status"
    }
}

/// One container: what to run (set at submit) and what happened (written by the dispatcher).
/// Field names follow the Arvados container record.
public struct Container: Codable, Sendable, Hashable {
    public var uuid: String
    public var state: ContainerState
    /// 0 means "do not run" (a running container with priority 0 is stopped).
    public var priority: Int
    public var command: [String]
    public var containerImage: String?
    public var environment: [String: String]
    public var cwd: String
    public var runtimeConstraints: RuntimeConstraints
    public var schedulingParameters: SchedulingParameters
    /// The dispatcher holding the lock (Locked and Running).
    public var lockedBy: String?
    /// How many times a dispatcher gave the container back to the queue.
    public var lockCount: Int
    public var startedAt: Date?
    public var finishedAt: Date?
    public var exitCode: Int?
    public var runtimeStatus: RuntimeStatus
    /// The last lines of the container's log.
    public var log: String?
    /// What running it cost (instance price × time), in the operator's currency.
    public var cost: Double
    /// The instance it ran (or runs) on: "<instance type> <instance id>".
    public var instance: String?
    public var createdAt: Date
    public var modifiedAt: Date
    /// Submitting twice with the same id returns the first container.
    public var clientRequestID: String?

    enum CodingKeys: String, CodingKey {
        case uuid, state, priority, command, environment, cwd, log, cost, instance
        case containerImage = "container_image"
        case runtimeConstraints = "runtime_constraints"
        case schedulingParameters = "scheduling_parameters"
        case lockedBy = "locked_by"
        case lockCount = "lock_count"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case exitCode = "exit_code"
        case runtimeStatus = "runtime_status"
        case createdAt = "created_at"
        case modifiedAt = "modified_at"
        case clientRequestID = "client_request_id"
    }
}
