import APIModels
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
