import Foundation
import Hummingbird
import Logging
import Queue

/// The HTTP API, served by Hummingbird.
///
///     let api = APIServer(store: store, tokens: tokens, logger: logger)
///     try await api.application(host: "127.0.0.1", port: 8723).runService()
public struct APIServer: Sendable {
    public var store: any ContainerStore
    public var tokens: TokenTable
    public var maxBodyBytes: Int
    /// Read and idle timeouts and the connection cap.
    public var limits: ConnectionLimits
    /// The dispatcher's levers; nil when the process runs none.
    public var management: (any ManagementService)?
    public var logger: Logger
    /// The Prometheus text for /metrics; nil: the page is empty (no metrics in this process).
    public var metrics: (@Sendable () -> String)?
    /// Whether the store takes writes, for /_health; nil: not watched in this process.
    public var writeProbe: StoreWriteProbe?
    /// `queue.takeover_after`: how long a member may be silent before `/v1/dispatchers` calls it dead.
    public var takeoverAfter: Double = 120

    public init(
        store: any ContainerStore, tokens: TokenTable, maxBodyBytes: Int = 1 << 20, limits: ConnectionLimits = ConnectionLimits(),
        management: (any ManagementService)? = nil, logger: Logger, metrics: (@Sendable () -> String)? = nil,
        writeProbe: StoreWriteProbe? = nil
    ) {
        self.writeProbe = writeProbe
        self.store = store
        self.tokens = tokens
        self.maxBodyBytes = maxBodyBytes
        self.limits = limits
        self.management = management
        self.logger = logger
        self.metrics = metrics
    }

    /// The router with every route, and the list of (METHOD path) it serves.
    public func makeRouter() -> (Router<APIContext>, [String]) {
        let router = Router(context: APIContext.self)
        let reader = RequestReader(tokens: tokens, maxBodyBytes: maxBodyBytes)
        let routes = RouteTable(router: router, reader: reader)
        let store = store
        let management = management
        // 503 when the store cannot be read (nothing works without it); "degraded" when it
        // cannot be written (submits fail, reads still serve) or a dispatcher part fails (the
        // cloud, the runner or the lease needs a look).
        let writeProbe = writeProbe
        routes.add(.get, "/_health", role: nil) { _, _ in
            do {
                _ = try await store.list(ContainerQuery(limit: 1))
            } catch {
                return APIError(.serviceUnavailable, "unavailable", "store: \(error)").response()
            }
            var parts = await management?.health() ?? ["dispatcher": "not running in this process"]
            if case .failing(let since, let reason) = writeProbe?.status {
                parts["store"] = "writes failing since \(Timestamp.format(since)): \(reason)"
            } else {
                parts["store"] = "ok"
            }
            let ok = parts.values.allSatisfy { $0 == "ok" || $0.hasPrefix("ok,") || $0.hasPrefix("not running") }
            parts["status"] = ok ? "ok" : "degraded"
            return JSONBody.response(.ok, parts)
        }
        routes.add(.get, "/openapi.json", role: nil) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.data)))
        }
        // Public, as Prometheus scrapers usually are: counts and sums only, no ids or names of containers.
        let metrics = metrics
        routes.add(.get, "/metrics", role: nil) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics?() ?? "")))
        }
        ContainerRoutes(store: store, reader: reader).register(routes)
        ManagementRoutes(store: store, management: management, reader: reader, takeoverAfter: takeoverAfter).register(routes)
        routes.finish()
        return (router, routes.operations)
    }

    /// An application listening on host:port; `onListening` gets the bound port (useful with port 0).
    public func application(
        host: String, port: Int, onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    )
        -> some ApplicationProtocol
    {
        let (router, _) = makeRouter()
        return Application(
            router: router, server: .guardedHTTP1(limits),
            configuration: .init(address: .hostname(host, port: port), serverName: "cloud-dispatch"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) }, logger: logger)
    }
}
