import APIModels
import Foundation
import Hummingbird
import Queue

/// The operator's endpoints (admin token): instances and their idle behaviour, the scheduler's
/// queue, killing a container with a reason. Without a dispatcher in the process (`serve
/// --no-dispatch`) the instance and queue endpoints answer 503.
struct ManagementRoutes: Sendable {
    let store: any ContainerStore
    let management: (any ManagementService)?
    let reader: RequestReader
    /// The daemon's `queue.takeover_after`, by which a silent member counts as dead.
    let takeoverAfter: Double

    struct KillRequest: Codable { var reason: String }
    struct Instances: Codable { var instances: [InstanceSummary] }
    struct Queue: Codable { var queue: [QueueEntry] }
    struct Dispatchers: Codable { var dispatchers: [DispatcherSummary] }

    func register(_ routes: RouteTable) {
        routes.add(.get, "/v1/instances", role: .admin) { _, _ in
            JSONBody.response(.ok, Instances(instances: try await service().instances()))
        }
        for behavior in ["hold", "drain", "run"] {
            routes.add(.post, "/v1/instances/{id}/\(behavior)", role: .admin) { _, id in
                do {
                    return JSONBody.response(.ok, try await service().setIdleBehavior(behavior, instance: id ?? ""))
                } catch let error as ManagementError {
                    throw APIError(error)
                }
            }
        }
        routes.add(.post, "/v1/instances/{id}/kill", role: .admin) { request, id in
            let body = try await reader.decode(KillRequest.self, request, schema: "KillRequest")
            do {
                try await service().kill(instance: id ?? "", reason: body.reason)
            } catch let error as ManagementError {
                throw APIError(error)
            }
            return JSONBody.response(.accepted, ["id": id ?? "", "state": "shutdown"])
        }
        routes.add(.get, "/v1/dispatchers", role: .admin) { _, _ in
            guard let membership = store as? any DispatcherMembership else {
                throw APIError(.serviceUnavailable, "unavailable", "this queue store keeps no dispatcher membership")
            }
            let members = try await membership.members()
            return JSONBody.response(.ok, Dispatchers(dispatchers: members.map { DispatcherSummary($0, takeoverAfter: takeoverAfter) }))
        }
        routes.add(.post, "/v1/dispatchers/{id}/forget", role: .admin) { _, id in
            guard let membership = store as? any DispatcherMembership else {
                throw APIError(.serviceUnavailable, "unavailable", "this queue store keeps no dispatcher membership")
            }
            try await membership.forget(id ?? "", takeoverAfter: takeoverAfter)
            return JSONBody.response(.ok, ["id": id ?? "", "state": "forgotten"])
        }
        routes.add(.get, "/v1/queue", role: .admin) { _, _ in
            JSONBody.response(.ok, Queue(queue: try await service().queue()))
        }
        routes.add(.get, "/v1/containers/{uuid}/explain", role: .submitter) { _, uuid in
            do {
                return JSONBody.response(.ok, try await service().explain(uuid ?? ""))
            } catch let error as ManagementError {
                throw APIError(error)
            }
        }
        routes.add(.post, "/v1/containers/{uuid}/kill", role: .admin) { request, uuid in
            let body = try await reader.decode(KillRequest.self, request, schema: "KillRequest")
            return JSONBody.response(.ok, try await store.apply(.cancel(reason: "killed by an operator: \(body.reason)"), to: uuid ?? ""))
        }
    }

    private func service() throws -> any ManagementService {
        guard let management else {
            throw APIError(.serviceUnavailable, "no_dispatcher", "this daemon runs without a dispatcher (serve --no-dispatch)")
        }
        return management
    }
}

extension APIError {
    init(_ error: ManagementError) {
        switch error {
        case .unknownInstance(let id): self.init(.notFound, "not_found", "no instance \(id) in this dispatcher's pool")
        case .unknownContainer(let uuid): self.init(.notFound, "not_found", "no container \(uuid)")
        case .unavailable(let message): self.init(.serviceUnavailable, "unavailable", message)
        }
    }
}

extension DispatcherSummary {
    init(_ m: DispatcherMember, takeoverAfter: Double) {
        let state: String =
            switch m.state(takeoverAfter: takeoverAfter) {
            case .active: "active"
            case .dead: "dead"
            case .takenOver: "taken_over"
            case .drained: "drained"
            }
        self.init(
            id: m.id, instanceSet: m.id, driver: m.driver, version: m.version, host: m.host, pid: m.pid, heartbeatAge: m.heartbeatAge,
            epoch: m.epoch, state: state, takenOverBy: m.takenOverBy, takenOverAt: m.takenOverAt, drainedAt: m.drainedAt)
    }
}
