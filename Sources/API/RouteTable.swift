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
        let routerPath = Self.routerPath(path)
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

    static func routerPath(_ path: String) -> RouterPath {
        RouterPath(path.replacingOccurrences(of: "{uuid}", with: ":uuid").replacingOccurrences(of: "{id}", with: ":id"))
    }
}

/// A request no route matches: on a known path (any method, even one HTTP does not define yet)
/// 405 with `Allow`, else 404; both in the API's error shape (Hummingbird's own 404 has none).
struct UnroutedRequests: RouterMiddleware {
    typealias Context = APIContext

    /// OpenAPI-style path → the methods served there.
    let served: [String: [String]]

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let allowed = allowedMethods(request.uri.path) else {
                return APIError(.notFound, "not_found", "no such path: \(request.uri.path)").response()
            }
            let allow = allowed.joined(separator: ", ")
            var response = APIError(.methodNotAllowed, "method_not_allowed",
                                    "\(request.method.rawValue) is not served on \(request.uri.path); use \(allow)").response()
            response.headers[.allow] = allow
            return response
        }
    }

    /// The methods of the path that matches, the one with the most literal segments winning as in
    /// the router ("/v1/containers/lock" before "/v1/containers/{uuid}"); nil when none does.
    func allowedMethods(_ path: String) -> [String]? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        var best: (literals: Int, methods: [String])?
        for (template, methods) in served {
            let parts = template.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == segments.count else { continue }
            var literals = 0
            let matches = zip(parts, segments).allSatisfy { part, segment in
                if part.hasPrefix("{") { return !segment.isEmpty }
                literals += 1
                return part == segment
            }
            if matches && literals > (best?.literals ?? -1) { best = (literals, methods) }
        }
        return best?.methods
    }
}
