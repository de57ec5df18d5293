import APIModels
import Foundation
import Queue

/// The operator's endpoints (admin token).
extension APIClient {
    public func instances() async throws -> [InstanceSummary] {
        struct List: Decodable { var instances: [InstanceSummary] }
        return try await call("GET", "/v1/instances", as: List.self).instances
    }

    /// `behavior`: hold, drain or run.
    public func setIdleBehavior(_ behavior: String, instance id: String) async throws -> InstanceSummary {
        struct Empty: Encodable {}
        return try await call("POST", "/v1/instances/\(escape(id))/\(behavior)", body: Empty(), as: InstanceSummary.self)
    }

    public func kill(instance id: String, reason: String) async throws {
        struct Body: Encodable { var reason: String }
        struct Answer: Decodable { var id: String }
        _ = try await call("POST", "/v1/instances/\(escape(id))/kill", body: Body(reason: reason), as: Answer.self)
    }

    public func kill(container uuid: String, reason: String) async throws -> Container {
        struct Body: Encodable { var reason: String }
        return try await call("POST", "/v1/containers/\(escape(uuid))/kill", body: Body(reason: reason), as: Container.self)
    }

    public func explain(_ uuid: String) async throws -> ContainerExplanation {
        try await call("GET", "/v1/containers/\(escape(uuid))/explain", as: ContainerExplanation.self)
    }

    /// The dispatchers sharing the queue: their sets, heartbeats, epochs and takeovers.
    public func dispatchers() async throws -> [DispatcherSummary] {
        struct List: Decodable { var dispatchers: [DispatcherSummary] }
        return try await call("GET", "/v1/dispatchers", as: List.self).dispatchers
    }

    /// Drops a drained (or dead) member, so its id may start again.
    public func forgetDispatcher(_ id: String) async throws {
        struct Empty: Encodable {}
        struct Answer: Decodable { var id: String }
        _ = try await call("POST", "/v1/dispatchers/\(escape(id))/forget", body: Empty(), as: Answer.self)
    }

    public func schedulerQueue() async throws -> [QueueEntry] {
        struct View: Decodable { var queue: [QueueEntry] }
        return try await call("GET", "/v1/queue", as: View.self).queue
    }
}
