/// How long the API waits for a client and how many clients it serves at once
/// (`api.read_timeout`, `api.idle_timeout`, `api.max_connections`).
///
///     let api = APIServer(store: store, tokens: tokens, limits: ConnectionLimits(readTimeout: .seconds(5)), logger: logger)
///
/// Without them a client that stops half-way through a request, or keeps a connection open and
/// silent, holds a file descriptor for ever; enough of them and the daemon cannot accept anything.
public struct ConnectionLimits: Sendable, Equatable {
    /// A request's headers and body must arrive within this long: counted from the connection's
    /// opening for its first request, from the head of each later one. Requests are small JSON
    /// (at most `max_body_bytes`), so 30 s is generous even on a slow link.
    public var readTimeout: Duration
    /// A kept-alive connection with no request in progress is closed after this long. Clients
    /// that reuse connections do so within seconds; 60 s is the common default of proxies.
    public var idleTimeout: Duration
    /// Connections served at once; the next one is answered 503 and closed. Each costs one file
    /// descriptor (and some 20 KB); 4,096 leaves room for thousands of slow clients, far more than a CLI,
    /// a workflow engine and a metrics scraper need, while staying within any sensible open-file limit.
    public var maxConnections: Int

    public static let defaultReadTimeout = Duration.seconds(30)
    public static let defaultIdleTimeout = Duration.seconds(60)
    public static let defaultMaxConnections = 4096

    public init(
        readTimeout: Duration = defaultReadTimeout, idleTimeout: Duration = defaultIdleTimeout,
        maxConnections: Int = defaultMaxConnections
    ) {
        self.readTimeout = readTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }
}
