import Foundation
import Queue

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A client of the HTTP API, used by the CLI and the tests.
///
///     let client = APIClient(server: URL(string: "http://127.0.0.1:8723")!, token: token)
///     let [c] = try await client.submit([ContainerSpec(command: ["echo", "hi"])])
///     print(try await client.get(c.uuid).state)
public struct APIClient: Sendable {
    public var server: URL
    public var token: String?

    public init(server: URL, token: String?) {
        self.server = server
        self.token = token
    }

    /// An error answer of the server (its error code, message and field details), or a
    /// failure to reach it.
    public enum Failure: Error, CustomStringConvertible {
        case http(status: Int, code: String, message: String, details: [FieldProblem])
        case transport(String)

        public var description: String {
            switch self {
            case .http(let status, let code, let message, let details):
                let fields = details.map { "\n  \($0.field): \($0.rule)" }.joined()
                return "\(message) (HTTP \(status) \(code))\(fields)"
            case .transport(let message):
                return message
            }
        }
    }

    struct Batch: Codable { var containers: [ContainerSpec] }
    struct List: Codable { var containers: [Container] }

    public func submit(_ specs: [ContainerSpec]) async throws -> [Container] {
        if specs.count == 1 {
            return [try await call("POST", "/v1/containers", body: specs[0], as: Container.self)]
        }
        return try await call("POST", "/v1/containers", body: Batch(containers: specs), as: List.self).containers
    }

    public func get(_ uuid: String) async throws -> Container {
        try await call("GET", "/v1/containers/\(escape(uuid))", as: Container.self)
    }

    public func list(states: [ContainerState] = [], limit: Int = 100, after: String? = nil) async throws -> ContainerPage {
        var query = states.map { URLQueryItem(name: "state", value: $0.rawValue) }
        query.append(URLQueryItem(name: "limit", value: String(limit)))
        if let after { query.append(URLQueryItem(name: "after", value: after)) }
        return try await call("GET", "/v1/containers", query: query, as: ContainerPage.self)
    }

    /// Every container matching `states`, following pages.
    public func listAll(states: [ContainerState] = []) async throws -> [Container] {
        var all: [Container] = []
        var after: String?
        repeat {
            let page = try await list(states: states, limit: 1000, after: after)
            all += page.items
            after = page.next
        } while after != nil
        return all
    }

    public func cancel(_ uuid: String, reason: String?) async throws -> Container {
        struct Body: Encodable { var reason: String? }
        return try await call("POST", "/v1/containers/\(escape(uuid))/cancel", body: Body(reason: reason), as: Container.self)
    }

    public func setPriority(_ uuid: String, _ priority: Int) async throws -> Container {
        struct Body: Encodable { var priority: Int }
        return try await call("PATCH", "/v1/containers/\(escape(uuid))", body: Body(priority: priority), as: Container.self)
    }

    public func log(_ uuid: String) async throws -> String {
        let (_, data) = try await send("GET", "/v1/containers/\(escape(uuid))/log", query: [], body: nil)
        return String(decoding: data, as: UTF8.self)
    }

    /// A raw request: status and body, with no error mapping (for tests of the API itself).
    public func raw(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) async throws -> (Int, Data) {
        // `path` may carry a query string: resolve it, rather than append it as a path component.
        guard let url = URL(string: path, relativeTo: server) else { throw Failure.transport("bad path \(path)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        } catch {
            throw Failure.transport("cannot reach \(server): \(error.localizedDescription)")
        }
    }

    // MARK: - Plumbing

    func call<T: Decodable>(_ method: String, _ path: String, query: [URLQueryItem] = [], as: T.Type) async throws -> T {
        let (_, data) = try await send(method, path, query: query, body: nil)
        return try decode(T.self, data)
    }

    func call<B: Encodable, T: Decodable>(_ method: String, _ path: String, body: B, as: T.Type) async throws -> T {
        let encoded: Data
        do { encoded = try JSONEncoder().encode(body) } catch { throw Failure.transport("cannot encode the request: \(error)") }
        let (_, data) = try await send(method, path, query: [], body: encoded)
        return try decode(T.self, data)
    }

    func send(_ method: String, _ path: String, query: [URLQueryItem], body: Data?) async throws -> (Int, Data) {
        var components = URLComponents(url: server.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty { components.queryItems = query }
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.timeoutInterval = 60
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let data: Data
        let status: Int
        do {
            let (d, response) = try await URLSession.shared.data(for: request)
            data = d
            status = (response as? HTTPURLResponse)?.statusCode ?? 0
        } catch {
            throw Failure.transport("cannot reach \(server): \(error.localizedDescription)")
        }
        guard (200..<300).contains(status) else {
            struct ErrorBody: Decodable {
                struct Inner: Decodable { var code: String; var message: String; var details: [FieldProblem]? }
                var error: Inner
            }
            if let e = try? JSONDecoder().decode(ErrorBody.self, from: data) {
                throw Failure.http(status: status, code: e.error.code, message: e.error.message, details: e.error.details ?? [])
            }
            throw Failure.http(status: status, code: "unknown", message: String(decoding: data.prefix(200), as: UTF8.self), details: [])
        }
        return (status, data)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        do { return try ContainerCodec.decoder.decode(T.self, from: data) } catch {
            throw Failure.transport("unexpected answer from \(server): \(error)")
        }
    }

    func escape(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? s }
}
