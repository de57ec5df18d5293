import Foundation

/// What the scheduler reads of a container every round: no command, environment or log.
/// A round reads the whole active queue, so this is kept small; the full record is read
/// only for the containers that start.
public struct ContainerSummary: Sendable, Hashable, Decodable {
    public var uuid: String
    public var state: ContainerState
    public var priority: Int
    public var lockedBy: String?
    public var createdAt: Date
    public var runtimeConstraints: RuntimeConstraints
    public var schedulingParameters: SchedulingParameters
    public var schedulingStatus: String?

    public init(_ c: Container) {
        uuid = c.uuid
        state = c.state
        priority = c.priority
        lockedBy = c.lockedBy
        createdAt = c.createdAt
        runtimeConstraints = c.runtimeConstraints
        schedulingParameters = c.schedulingParameters
        schedulingStatus = c.runtimeStatus.schedulingStatus
    }

    /// The stores build this document in SQL from a container's columns and JSON.
    enum CodingKeys: String, CodingKey {
        case uuid, state, priority
        case lockedBy = "locked_by"
        case createdAt = "created_at"
        case runtimeConstraints = "runtime_constraints"
        case schedulingParameters = "scheduling_parameters"
        case schedulingStatus = "scheduling_status"
    }

    /// Decodes the document the stores' `summaries` queries build.
    public static func decode(_ text: String) throws -> ContainerSummary {
        try ContainerCodec.decoder.decode(ContainerSummary.self, from: Data(text.utf8))
    }
}
