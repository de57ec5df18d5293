import Foundation

/// One dispatcher sharing the queue, as `GET /v1/dispatchers` shows it.
public struct DispatcherSummary: Codable, Sendable, Equatable {
    /// The dispatcher id, which is also the instance-set id its instances are tagged with.
    public var id: String
    public var instanceSet: String
    public var driver: String
    public var version: String
    public var host: String
    public var pid: Int
    /// Seconds since its last heartbeat, by the queue database's clock.
    public var heartbeatAge: Double
    /// The lease epoch on its id (bumped by each daemon that takes the id, a survivor included).
    public var epoch: Int64
    /// active, dead, taken_over or drained.
    public var state: String
    public var takenOverBy: String?
    public var takenOverAt: Date?
    public var drainedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, driver, version, host, pid, epoch, state
        case instanceSet = "instance_set", heartbeatAge = "heartbeat_age", takenOverBy = "taken_over_by"
        case takenOverAt = "taken_over_at", drainedAt = "drained_at"
    }

    public init(
        id: String, instanceSet: String, driver: String, version: String, host: String, pid: Int, heartbeatAge: Double,
        epoch: Int64, state: String, takenOverBy: String?, takenOverAt: Date?, drainedAt: Date?
    ) {
        self.id = id
        self.instanceSet = instanceSet
        self.driver = driver
        self.version = version
        self.host = host
        self.pid = pid
        self.heartbeatAge = heartbeatAge
        self.epoch = epoch
        self.state = state
        self.takenOverBy = takenOverBy
        self.takenOverAt = takenOverAt
        self.drainedAt = drainedAt
    }
}
