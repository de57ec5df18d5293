import Foundation

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
