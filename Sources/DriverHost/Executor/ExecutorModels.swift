/// Typed forms of the executor payloads, spelled in JSON as in
/// `Schemas/executor-abi.schema.json` (keys mapped one by one, as in `Models.swift`).

/// What an executor backend can do.
public struct ExecutorCapabilities: Codable, Sendable, Hashable {
    enum CodingKeys: String, CodingKey {
        case idempotentSubmit = "idempotent_submit"
        case images
        case logTail = "log_tail"
    }
    public var idempotentSubmit: Bool
    /// It can run a container image (else only plain commands).
    public var images: Bool
    public var logTail: Bool

    public init(idempotentSubmit: Bool, images: Bool, logTail: Bool) {
        self.idempotentSubmit = idempotentSubmit
        self.images = images
        self.logTail = logTail
    }
}

/// One partition of a backend and what can start on it now.
public struct PartitionCapacity: Codable, Sendable, Hashable {
    enum CodingKeys: String, CodingKey {
        case name
        case totalVCPUs = "total_vcpus"
        case totalRAM = "total_ram"
        case freeVCPUs = "free_vcpus"
        case freeRAM = "free_ram"
        case maxJobVCPUs = "max_job_vcpus"
        case maxJobRAM = "max_job_ram"
        case maxRunTime = "max_run_time"
    }
    public var name: String
    public var totalVCPUs: Int
    /// Bytes.
    public var totalRAM: Int64
    /// Free now, every user's load counted.
    public var freeVCPUs: Int
    public var freeRAM: Int64
    /// The most one job may ask for (one node's worth, on a cluster).
    public var maxJobVCPUs: Int
    public var maxJobRAM: Int64
    /// Seconds a job may run; 0: no limit.
    public var maxRunTime: Int

    public init(
        name: String, totalVCPUs: Int, totalRAM: Int64, freeVCPUs: Int, freeRAM: Int64, maxJobVCPUs: Int, maxJobRAM: Int64,
        maxRunTime: Int = 0
    ) {
        self.name = name
        self.totalVCPUs = totalVCPUs
        self.totalRAM = totalRAM
        self.freeVCPUs = freeVCPUs
        self.freeRAM = freeRAM
        self.maxJobVCPUs = maxJobVCPUs
        self.maxJobRAM = maxJobRAM
        self.maxRunTime = maxRunTime
    }
}

/// The container a submit runs: what a backend needs of the queue's record, and no more
/// (no secrets the container does not carry itself).
public struct JobContainer: Codable, Sendable, Hashable {
    enum CodingKeys: String, CodingKey {
        case uuid, command, image, environment, cwd, vcpus, ram
        case maxRunTime = "max_run_time"
    }
    public var uuid: String
    public var command: [String]
    /// "" for a plain command.
    public var image: String
    public var environment: [String: String]
    /// "" for the backend's default.
    public var cwd: String
    public var vcpus: Int
    /// Bytes.
    public var ram: Int64
    /// Seconds; 0: no limit.
    public var maxRunTime: Int

    public init(
        uuid: String, command: [String], image: String = "", environment: [String: String] = [:], cwd: String = "", vcpus: Int,
        ram: Int64, maxRunTime: Int = 0
    ) {
        self.uuid = uuid
        self.command = command
        self.image = image
        self.environment = environment
        self.cwd = cwd
        self.vcpus = vcpus
        self.ram = ram
        self.maxRunTime = maxRunTime
    }
}

/// `submit`: run one container on one partition.
public struct JobSubmission: Codable, Sendable, Hashable {
    enum CodingKeys: String, CodingKey {
        case container, partition, tags
        case idempotencyToken = "idempotency_token"
    }
    public var container: JobContainer
    public var partition: String
    public var idempotencyToken: String
    public var tags: [String: String]

    public init(container: JobContainer, partition: String, idempotencyToken: String, tags: [String: String]) {
        self.container = container
        self.partition = partition
        self.idempotencyToken = idempotencyToken
        self.tags = tags
    }
}

/// One job as a backend reports it.
public struct BackendJob: Codable, Sendable, Hashable {
    public enum State: String, Codable, Sendable, Hashable {
        case pending, running, ended
    }

    /// How a job ended: the closed set the host's policy keys off (see the header).
    public enum EndReason: String, Codable, Sendable, Hashable, CaseIterable {
        case exited
        case failedToStart = "failed_to_start"
        case timeout
        case outOfMemory = "out_of_memory"
        case cancelled
        case nodeFail = "node_fail"
        case preempted
        case lost

        /// Not the container's doing: run it again without counting an attempt.
        public var isInfrastructure: Bool { self == .nodeFail || self == .preempted }
    }

    enum CodingKeys: String, CodingKey {
        case id, partition, state, `where`, tags, message
        case idempotencyToken = "idempotency_token"
        case exitCode = "exit_code"
        case endReason = "end_reason"
        case submittedAt = "submitted_at"
        case startedAt = "started_at"
        case endedAt = "ended_at"
    }
    public var id: String
    public var idempotencyToken: String
    public var partition: String
    public var state: State
    /// Node names it runs (or ran) on; "" while pending.
    public var `where`: String
    public var tags: [String: String]
    /// The command's exit status, when `endReason` is `.exited`.
    public var exitCode: Int?
    public var endReason: EndReason?
    public var message: String
    /// RFC 3339, or "".
    public var submittedAt: String
    public var startedAt: String
    public var endedAt: String

    public init(
        id: String, idempotencyToken: String, partition: String, state: State, where: String = "", tags: [String: String] = [:],
        exitCode: Int? = nil, endReason: EndReason? = nil, message: String = "", submittedAt: String = "", startedAt: String = "",
        endedAt: String = ""
    ) {
        self.id = id
        self.idempotencyToken = idempotencyToken
        self.partition = partition
        self.state = state
        self.where = `where`
        self.tags = tags
        self.exitCode = exitCode
        self.endReason = endReason
        self.message = message
        self.submittedAt = submittedAt
        self.startedAt = startedAt
        self.endedAt = endedAt
    }
}

// Request and reply envelopes.
struct CapacityReply: Codable { var partitions: [PartitionCapacity] }
struct SubmitReply: Codable { var job: BackendJob }
struct JobsReply: Codable { var jobs: [BackendJob] }
struct CancelRequest: Codable {
    var id: String
    var graceMS: Int
    enum CodingKeys: String, CodingKey { case id, graceMS = "grace_ms" }
}
struct ReleaseRequest: Codable { var ids: [String] }
struct LogTailRequest: Codable {
    var id: String
    var maxBytes: Int
    enum CodingKeys: String, CodingKey { case id, maxBytes = "max_bytes" }
}
struct LogTailReply: Codable { var text: String }
