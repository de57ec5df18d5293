import Hummingbird
import Queue

/// Registers routes on the router and remembers them, so a test can compare the served API
/// with the OpenAPI document. Each route states the role it needs; authorization happens
/// before the handler runs. `finish()` answers every other method on a known path with 405.
final class RouteTable {
    typealias Handler = @Sendable (Request, String?) async throws -> Response

    let router: Router<APIContext>
    let reader: RequestReader
    private(set) var operations: [String] = []

    init(router: Router<APIContext>, reader: RequestReader) {
        self.router = router
        self.reader = reader
    }

    /// The methods a client may try; those a known path does not serve get 405 and `Allow`.
    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options, .trace, .connect]

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

    /// Registers 405 for each method a known path does not serve; call after the last `add`.
    func finish() {
        var served: [String: [String]] = [:]
        for operation in operations {
            let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
            served[parts[1], default: []].append(parts[0])
        }
        for (path, methods) in served {
            let allow = methods.sorted().joined(separator: ", ")
            for method in Self.methods where !methods.contains(method.rawValue) {
                router.on(Self.routerPath(path), method: method) { request, _ -> Response in
                    var response = APIError(.methodNotAllowed, "method_not_allowed", "\(request.method.rawValue) is not served on \(path); use \(allow)").response()
                    response.headers[.allow] = allow
                    return response
                }
            }
        }
    }

    static func routerPath(_ path: String) -> RouterPath {
        RouterPath(path.replacingOccurrences(of: "{uuid}", with: ":uuid").replacingOccurrences(of: "{id}", with: ":id"))
    }
}

/// A path no route matches gets the API's error shape (Hummingbird's own 404 has none).
struct UnroutedRequests: RouterMiddleware {
    typealias Context = APIContext

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return APIError(.notFound, "not_found", "no such path: \(request.uri.path)").response()
        }
    }
}
