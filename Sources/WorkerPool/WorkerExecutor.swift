import DriverHost

/// How the pool reaches the runner on a worker. The SSH executor serves it in production; the
/// simulated one in tests and benchmarks. Calls may be slow; each is bounded by its own timeouts.
public protocol WorkerExecutor: Sendable {
    /// Asks the worker's runner what it is doing.
    func probe(_ instance: Instance, now: Double) async -> ProbeResult
    /// Starts a container (detached). Throws when the runner refused or could not be reached,
    /// and `StartUnanswered` when the request may have reached the runner but no answer came.
    func start(_ container: ContainerLaunch, on instance: Instance, now: Double) async throws
    /// Asks the runner to stop a container (TERM, then KILL).
    func stop(_ uuid: String, on instance: Instance, now: Double) async
    /// Tells the worker its result of `uuid` was recorded, so it may forget it. Until then it
    /// reports the result on every probe (a dispatcher that crashed before recording it learns
    /// it again after the restart).
    func release(_ uuid: String, on instance: Instance) async
    /// The instance is gone: drop whatever is kept for it (connections, pins).
    func instanceGone(_ id: String) async
}

extension WorkerExecutor {
    public func release(_ uuid: String, on instance: Instance) async {}
    public func instanceGone(_ id: String) async {}
}

/// A start that may have acted: sent, then no answer (a timeout, a session that broke). The pool
/// counts the container as started there, as the runner may well run it, and the next probe
/// settles it: running, finished, or vanished (then it is requeued like any container whose
/// worker lost it). Giving it back to the queue instead could start a second copy elsewhere.
public struct StartUnanswered: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What a probe learned.
public enum ProbeResult: Sendable, Equatable {
    /// Not reachable (booting, or gone dark), and why: the connection refused or timed out, the
    /// host's identity did not match, the runner could not be deployed. nil: not tried this time
    /// (backing off after earlier failures).
    case unreachable(String?)
    /// Reachable: the containers it runs, and those that ended since the last probe.
    case ready(running: Set<String>, finished: [FinishedContainer])
    /// Reachable, but reports itself unusable.
    case broken
}

/// A container that ended on a worker.
public struct FinishedContainer: Sendable, Hashable {
    public var uuid: String
    /// nil when it died without a result (the runner was killed, the node rebooted).
    public var exitCode: Int?
    public var log: String
    /// Why the runner ended it (max_run_time exceeded, no container runtime): such a container
    /// is cancelled with this reason rather than completed or retried.
    public var reason: String?

    public init(uuid: String, exitCode: Int?, log: String, reason: String? = nil) {
        self.uuid = uuid
        self.exitCode = exitCode
        self.log = log
        self.reason = reason
    }
}

/// What a runner needs to start a container: never more than that (no tokens, no secrets).
public struct ContainerLaunch: Sendable, Hashable {
    public var uuid: String
    public var command: [String]
    public var image: String?
    public var environment: [String: String]
    public var cwd: String
    public var maxRunTime: Int
    public var gpuDevices: [Int]

    public init(
        uuid: String, command: [String], image: String?, environment: [String: String], cwd: String,
        maxRunTime: Int, gpuDevices: [Int]
    ) {
        self.uuid = uuid
        self.command = command
        self.image = image
        self.environment = environment
        self.cwd = cwd
        self.maxRunTime = maxRunTime
        self.gpuDevices = gpuDevices
    }
}
