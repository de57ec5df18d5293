import Foundation

/// Why a container waits, or why it ended: `GET /v1/containers/{uuid}/explain`.
public struct ContainerExplanation: Codable, Sendable, Equatable {
    /// One instance type, judged for this container.
    public struct TypeVerdict: Codable, Sendable, Equatable {
        public var name: String
        public var price: Double
        public var eligible: Bool
        public var reason: String
        /// Why it may not be created right now (back-off after cloud errors).
        public var blocked: String?

        public init(name: String, price: Double, eligible: Bool, reason: String, blocked: String?) {
            self.name = name
            self.price = price
            self.eligible = eligible
            self.reason = reason
            self.blocked = blocked
        }
    }

    public var uuid: String
    public var state: String
    /// One sentence: the answer to "why?".
    public var summary: String
    public var priority: Int
    /// Position in the scheduler's order (1 = next), while it waits or runs.
    public var position: Int?
    public var queueLength: Int?
    public var schedulingStatus: String?
    /// Attempts that ended without a result (unlocks and requeues).
    public var attemptsEnded: Int
    public var warning: String?
    public var error: String?
    public var instance: String?
    public var exitCode: Int?
    public var cost: Double
    /// Cheapest first.
    public var types: [TypeVerdict]

    enum CodingKeys: String, CodingKey {
        case uuid, state, summary, priority, position, warning, error, instance, cost, types
        case queueLength = "queue_length", schedulingStatus = "scheduling_status", attemptsEnded = "attempts_ended", exitCode = "exit_code"
    }

    public init(
        uuid: String, state: String, summary: String, priority: Int, position: Int?, queueLength: Int?, schedulingStatus: String?,
        attemptsEnded: Int, warning: String?, error: String?, instance: String?, exitCode: Int?, cost: Double, types: [TypeVerdict]
    ) {
        self.uuid = uuid
        self.state = state
        self.summary = summary
        self.priority = priority
        self.position = position
        self.queueLength = queueLength
        self.schedulingStatus = schedulingStatus
        self.attemptsEnded = attemptsEnded
        self.warning = warning
        self.error = error
        self.instance = instance
        self.exitCode = exitCode
        self.cost = cost
        self.types = types
    }
}
