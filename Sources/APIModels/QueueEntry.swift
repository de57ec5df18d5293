/// One container in the scheduler's order, as `GET /v1/queue` shows it.
public struct QueueEntry: Codable, Sendable, Equatable {
    public var position: Int
    public var uuid: String
    public var state: String
    public var priority: Int
    /// Cheapest first; empty when nothing fits.
    public var eligibleTypes: [String]
    public var schedulingStatus: String?

    enum CodingKeys: String, CodingKey {
        case position, uuid, state, priority
        case eligibleTypes = "eligible_types", schedulingStatus = "scheduling_status"
    }

    public init(position: Int, uuid: String, state: String, priority: Int, eligibleTypes: [String], schedulingStatus: String?) {
        self.position = position
        self.uuid = uuid
        self.state = state
        self.priority = priority
        self.eligibleTypes = eligibleTypes
        self.schedulingStatus = schedulingStatus
    }
}
