import Foundation
import Scheduler

/// The daemon's configuration, as read from YAML (see docs/configuration.md). Every member has
/// a default, so an empty file is a working local setup.
public struct Configuration: Sendable, Equatable {
    public var dispatcherID = "local"
    public var listenHost = "127.0.0.1"
    public var listenPort = 8723
    /// Absolute.
    public var stateDir: String
    /// "logfmt" or "json".
    public var logFormat = "logfmt"
    public var queue = QueueSettings()
    public var api = APISettings()
    public var driver = DriverSettings()
    /// Set: the pool is this executor backend, and `driver` is unused (the two are exclusive).
    public var executor: ExecutorSettings?
    public var instanceTypes = Configuration.localInstanceTypes
    public var scheduling = SchedulingSettings()
    public var workers = WorkerSettings()

    public init(stateDir: String) {
        self.stateDir = stateDir
    }

    public struct QueueSettings: Sendable, Equatable {
        /// "sqlite", or a postgres:// URL.
        public var store = "sqlite"
        public var maxDispatchAttempts = 5
        /// How long a dispatcher sharing this store may miss its heartbeat before another adopts
        /// its instance set (PostgreSQL only; see docs/operations.md "Running several dispatchers").
        public var takeoverAfter: Double = 120
    }

    public struct APISettings: Sendable, Equatable {
        public var maxBodyBytes = 1 << 20
        public var tokens: [Token] = []
        /// Seconds a request's headers and body may take to arrive.
        public var readTimeout = 30.0
        /// Seconds a kept-alive connection may wait for its next request.
        public var idleTimeout = 60.0
        /// Connections served at once; more are answered 503.
        public var maxConnections = 4096
    }

    /// A bearer token and its role; the secret itself is read from a file or the environment.
    public struct Token: Sendable, Equatable {
        public var name: String
        public var role: String
        public var secret: String

        /// Never print the secret.
        public var redacted: String { "\(name) (\(role))" }
    }

    /// The SQLite file when the store is "sqlite".
    public var sqlitePath: String { stateDir + "/queue.sqlite3" }
}
