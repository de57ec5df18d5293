import Foundation

/// One instance, as `GET /v1/instances` shows it.
public struct InstanceSummary: Codable, Sendable, Equatable {
    public var id: String
    public var address: String
    public var instanceType: String
    public var providerType: String
    public var price: Double
    /// unknown, booting, idle, running, shutdown.
    public var workerState: String
    /// run, hold, drain.
    public var idleBehavior: String
    public var runningContainers: [String]
    public var lastBusy: Date
    public var ageSeconds: Double

    enum CodingKeys: String, CodingKey {
        case id, address, price
        case instanceType = "instance_type", providerType = "provider_type", workerState = "worker_state"
        case idleBehavior = "idle_behavior", runningContainers = "running_containers", lastBusy = "last_busy", ageSeconds = "age_seconds"
    }

    public init(
        id: String, address: String, instanceType: String, providerType: String, price: Double, workerState: String,
        idleBehavior: String, runningContainers: [String], lastBusy: Date, ageSeconds: Double
    ) {
        self.id = id
        self.address = address
        self.instanceType = instanceType
        self.providerType = providerType
        self.price = price
        self.workerState = workerState
        self.idleBehavior = idleBehavior
        self.runningContainers = runningContainers
        self.lastBusy = lastBusy
        self.ageSeconds = ageSeconds
    }
}
