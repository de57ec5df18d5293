import Foundation

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
    /// How many runs the infrastructure ended (`Event.interrupted`); nil until the first.
    /// Not an attempt: it only makes each run's identity (lock_count, interruptions) unique.
    public var interruptions: Int? = nil
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
        case uuid, state, priority, command, environment, cwd, log, cost, instance, interruptions
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
