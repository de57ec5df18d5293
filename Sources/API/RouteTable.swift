import Hummingbird
import Queue

/// Registers routes on the router and remembers them, so a test can compare the served API
/// with the OpenAPI document. Each route states the role it needs; authorization happens
/// before the handler runs. `finish()` answers any other method on a known path with 405.
final class RouteTable {
    typealias Handler = @Sendable (Request, String?) async throws -> Response

    let router: Router<APIContext>
    let reader: RequestReader
    private(set) var operations: [String] = []

    init(router: Router<APIContext>, reader: RequestReader) {
        self.router = router
        self.reader = reader
    }

    /// `path` is written OpenAPI-style ("/v1/containers/{uuid}", "/v1/instances/{id}/hold"); the
    /// handler gets the path's one parameter. Role nil means public.
    func add(_ method: HTTPRequest.Method, _ path: String, role: Role?, _ handler: @escaping Handler) {
        operations.append("\(method.rawValue) \(path)")
        let routerPath = RouterPath(path.replacingOccurrences(of: "{uuid}", with: ":uuid").replacingOccurrences(of: "{id}", with: ":id"))
        let reader = reader
        router.on(routerPath, method: method) { request, context -> Response in
            do {
                if let role { _ = try reader.authorize(request, role) }
                return try await handler(request, context.parameters.get("uuid") ?? context.parameters.get("id"))
            } catch let error as APIError {
                return error.response()
            } catch let error as QueueError {
                return APIError(error).response()
            } catch {
                context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
                return APIError(.internalServerError, "internal", "internal error").response()
            }
        }
    }

    /// Answers what no route matches: 405 for a known path, 404 otherwise. Call after the last
    /// `add` (a router middleware added then wraps only the not-found case).
    func finish() {
        var served: [String: [String]] = [:]
        for operation in operations {
            let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
            served[parts[1], default: []].append(parts[0])
        }
        router.add(middleware: UnroutedRequests(served: served.mapValues { $0.sorted() }))
    }
}
