import Hummingbird

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
            var response = APIError(
                .methodNotAllowed, "method_not_allowed",
                "\(request.method.rawValue) is not served on \(request.uri.path); use \(allow)"
            ).response()
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
