import Foundation

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
