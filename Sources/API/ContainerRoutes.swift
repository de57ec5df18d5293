import Foundation
import Hummingbird
import Queue

/// The container endpoints: submit and read (submitter), and the dispatcher's transitions
/// (admin). Every state change goes through the store, which enforces the state machine.
struct ContainerRoutes: Sendable {
    let store: any ContainerStore
    let reader: RequestReader

    struct Batch: Codable { var containers: [ContainerSpec] }
    struct List: Codable { var containers: [Container] }
    struct PriorityChange: Codable { var priority: Int }
    struct CancelRequest: Codable { var reason: String? }
    struct LockRequest: Codable { var dispatcher: String; var uuids: [String] }
    struct ReleaseRequest: Codable { var dispatcher: String; var reason: String }
    struct StartRequest: Codable { var dispatcher: String; var instance: String }
    struct CompleteRequest: Codable {
        var dispatcher: String
        var exitCode: Int
        var log: String?
        var cost: Double?
        enum CodingKeys: String, CodingKey { case dispatcher, log, cost, exitCode = "exit_code" }
    }

    func register(_ routes: RouteTable) {
        routes.add(.post, "/v1/containers", role: .submitter, submit)
        routes.add(.get, "/v1/containers", role: .submitter, list)
        routes.add(.post, "/v1/containers/lock", role: .admin, lock)
        routes.add(.get, "/v1/containers/{uuid}", role: .submitter) { _, uuid in try await self.show(uuid) }
        routes.add(.get, "/v1/containers/{uuid}/log", role: .submitter) { _, uuid in try await self.log(uuid) }
        routes.add(.patch, "/v1/containers/{uuid}", role: .submitter) { request, uuid in
            let change = try await reader.decode(PriorityChange.self, request, schema: "PriorityChange")
            return try await apply(.setPriority(change.priority), uuid)
        }
        routes.add(.post, "/v1/containers/{uuid}/cancel", role: .submitter) { request, uuid in
            let body = try await reader.decode(CancelRequest.self, request, schema: "CancelRequest", emptyAs: "{}")
            return try await apply(.cancel(reason: body.reason ?? "cancelled by request"), uuid)
        }
        routes.add(.post, "/v1/containers/{uuid}/unlock", role: .admin) { request, uuid in
            let body = try await reader.decode(ReleaseRequest.self, request, schema: "ReleaseRequest")
            return try await apply(.unlock(by: body.dispatcher, reason: body.reason), uuid)
        }
        routes.add(.post, "/v1/containers/{uuid}/requeue", role: .admin) { request, uuid in
            let body = try await reader.decode(ReleaseRequest.self, request, schema: "ReleaseRequest")
            return try await apply(.requeue(by: body.dispatcher, reason: body.reason), uuid)
        }
        routes.add(.post, "/v1/containers/{uuid}/start", role: .admin) { request, uuid in
            let body = try await reader.decode(StartRequest.self, request, schema: "StartRequest")
            return try await apply(.start(by: body.dispatcher, instance: body.instance), uuid)
        }
        routes.add(.post, "/v1/containers/{uuid}/complete", role: .admin) { request, uuid in
            let body = try await reader.decode(CompleteRequest.self, request, schema: "CompleteRequest")
            return try await apply(.complete(by: body.dispatcher, exitCode: body.exitCode, log: body.log, cost: body.cost ?? 0), uuid)
        }
    }

    /// One spec, or `{"containers": [...]}`: all stored or none.
    func submit(_ request: Request, _: String?) async throws -> Response {
        let (value, data) = try await reader.json(request)
        let batch = value["containers"] != nil
        try reader.check(value, against: batch ? "ContainerBatch" : "ContainerSpec")
        let specs: [ContainerSpec]
        do {
            specs = batch ? try JSONDecoder().decode(Batch.self, from: data).containers : [try JSONDecoder().decode(ContainerSpec.self, from: data)]
        } catch {
            throw APIError.badRequest("body does not decode: \(error)")
        }
        let made = try await store.submit(specs)
        return batch ? JSONBody.response(.created, List(containers: made)) : JSONBody.response(.created, made[0])
    }

    func list(_ request: Request, _: String?) async throws -> Response {
        let params = request.uri.queryParameters
        var states = Set<ContainerState>()
        for raw in params[values: Substring("state")] {
            guard let state = ContainerState(rawValue: String(raw)) else {
                throw APIError(
                    .badRequest, "validation_failed", "unknown state \(raw)",
                    details: [FieldProblem(field: "state", rule: "one of Queued, Locked, Running, Complete, Cancelled")])
            }
            states.insert(state)
        }
        func integer(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let raw = params[Substring(name)] else { return nil }
            guard let n = Int(raw), range.contains(n) else {
                throw APIError(
                    .badRequest, "validation_failed", "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)",
                    details: [FieldProblem(field: name, rule: "whole number from \(range.lowerBound) to \(range.upperBound)")])
            }
            return n
        }
        let query = ContainerQuery(
            states: states, minPriority: try integer("min_priority", 0...1000),
            maxPriority: try integer("max_priority", 0...1000), after: params[Substring("after")].map(String.init),
            limit: try integer("limit", 1...ContainerQuery.maxLimit) ?? 100)
        let page = try await store.list(query)
        return JSONBody.response(.ok, page)
    }

    func lock(_ request: Request, _: String?) async throws -> Response {
        let body = try await reader.decode(LockRequest.self, request, schema: "LockRequest")
        let locked = try await store.lock(body.uuids, by: body.dispatcher)
        return JSONBody.response(.ok, List(containers: locked))
    }

    func show(_ uuid: String?) async throws -> Response {
        let uuid = uuid ?? ""
        return JSONBody.response(.ok, try await store.get(uuid))
    }

    func log(_ uuid: String?) async throws -> Response {
        let uuid = uuid ?? ""
        let c = try await store.get(uuid)
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: c.log ?? "")))
    }

    func apply(_ event: Event, _ uuid: String?) async throws -> Response {
        let uuid = uuid ?? ""
        return JSONBody.response(.ok, try await store.apply(event, to: uuid))
    }

}
