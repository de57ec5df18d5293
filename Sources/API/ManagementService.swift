import Foundation

/// What the management endpoints need from the dispatcher: its instances, its view of the queue,
/// and the operator's levers. The host serves it from the worker pool; the API knows nothing
/// else of the pool.
///
///     let api = APIServer(store: store, tokens: tokens, management: PoolManagement(dispatcher), logger: logger)
public protocol ManagementService: Sendable {
    func instances() async -> [InstanceSummary]
    /// hold, drain or run.
    func setIdleBehavior(_ behavior: String, instance id: String) async throws(ManagementError) -> InstanceSummary
    /// Shuts the instance down now, whatever runs there (those containers go back to the queue).
    func kill(instance id: String, reason: String) async throws(ManagementError)
    /// The scheduler's view of the queue, in its order.
    func queue() async -> [QueueEntry]
    /// Why a container waits, or why it ended.
    func explain(_ uuid: String) async throws(ManagementError) -> ContainerExplanation
    /// The dispatcher's parts, for /_health: "driver" and "runner", each "ok" or what is wrong.
    func health() async -> [String: String]
}

public enum ManagementError: Error, Sendable, Equatable {
    case unknownInstance(String)
    case unknownContainer(String)
    case unavailable(String)
}

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

    public init(id: String, address: String, instanceType: String, providerType: String, price: Double, workerState: String,
                idleBehavior: String, runningContainers: [String], lastBusy: Date, ageSeconds: Double) {
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
