import DriverHost
import Foundation
import Logging
import Synchronization
import WorkerPool

/// Reaches workers over SSH and speaks the runner contract (docs/runner.md): one verified
/// connection per worker, a channel per command, the runner deployed when its checksum
/// differs. Every blocking libssh2 call runs on a pool thread, never on Swift's cooperative
/// pool; probes have their own threads, so a slow probe never delays a start.
///
///     let executor = try SSHWorkerExecutor(settings: settings, logger: logger)
///     let pool = WorkerPool(settings: ..., instanceSet: set, executor: executor, types: types, logger: logger)
public final class SSHWorkerExecutor: WorkerExecutor {
    public struct Settings: Sendable {
        /// ed25519 (or ECDSA) private key; its public half is what instances authorize.
        public var privateKeyPath: String
        /// The runner binary deployed to workers.
        public var runnerBinary: String
        /// Used when the driver reports no user for an instance.
        public var defaultUser = "root"
        /// none | docker | podman | auto (passed to the runner with each container).
        public var runtime = "none"
        /// The user plain-process containers run as (name or uid[:gid]); nil: the runner's.
        public var runAs: String?
        public var connectTimeout = 10.0
        public var commandTimeout = 60.0
        public var maxConcurrentProbes = 20
        /// Wait after a first failed connection attempt; it doubles with each further failure.
        public var firstReconnectDelay = 0.5
        /// Longest wait between two connection attempts to a worker that does not answer.
        public var maxReconnectDelay = 10.0
        /// A container still running this long after its first TERM gets KILL.
        public var killAfter = 30.0
        /// Stop requests for one container are sent at most this often.
        public var signalInterval = 5.0
        /// The tag holding an instance's secret (see `InitScript`).
        public var secretTag = "cloud-dispatch-secret"

        public init(privateKeyPath: String, runnerBinary: String) {
            self.privateKeyPath = privateKeyPath
            self.runnerBinary = runnerBinary
        }
    }

    public let settings: Settings
    let logger: Logger
    let runner: [UInt8]
    let runnerChecksum: String
    let probes: BlockingPool
    let commands: BlockingPool
    private let connections = Mutex<[String: WorkerConnection]>([:])
    /// First and last stop request per container.
    private let stopping = Mutex<[String: (first: Double, last: Double)]>([:])

    public init(settings: Settings, logger: Logger) throws {
        guard let data = FileManager.default.contents(atPath: settings.runnerBinary), !data.isEmpty else {
            throw PoolError("cannot read the runner binary \(settings.runnerBinary)")
        }
        guard FileManager.default.isReadableFile(atPath: settings.privateKeyPath) else {
            throw PoolError("cannot read the worker SSH key \(settings.privateKeyPath)")
        }
        self.settings = settings
        self.logger = logger
        runner = [UInt8](data)
        runnerChecksum = SHA256.hex(runner)
        probes = BlockingPool(name: "ssh-probes", threads: max(1, settings.maxConcurrentProbes))
        commands = BlockingPool(name: "ssh-commands", threads: 8)
    }

    // MARK: WorkerExecutor

    public func probe(_ instance: Instance, now: Double) async -> ProbeResult {
        let outcome = await onWorker(instance, probes) { session, connection throws(SSHError) in
            try self.ensureRunner(session, connection, instance)
            let list = try session.run(RunnerCommand.runner(["--list"]), timeout: self.settings.commandTimeout)
            guard list.exitStatus == 0 else {
                self.logger.error(
                    "runner --list failed; treating the worker as broken",
                    metadata: ["instance": "\(instance.id)", "exit": "\(list.exitStatus)", "stderr": "\(list.stderrText.prefix(300))"])
                return ProbeResult.broken
            }
            var running = Set<String>()
            var finished: [FinishedContainer] = []
            for entry in RunnerCommand.parseList(list.stdoutText) {
                switch entry {
                case .broken(let reason):
                    self.logger.warning("worker reports itself broken", metadata: ["instance": "\(instance.id)", "reason": "\(reason)"])
                    return .broken
                case .live(let uuid): running.insert(uuid)
                case .done(let uuid), .stale(let uuid):
                    if let result = try self.status(uuid, session) { finished.append(result) }
                }
            }
            return .ready(running: running, finished: finished)
        }
        switch outcome {
        case .success(let result): return result
        case .failure(let error):
            if case .identity = error {
                logger.error("worker refused: not verified", metadata: ["instance": "\(instance.id)", "error": "\(error)"])
            } else if case .backingOff = error {
                return .unreachable(nil)
            } else {
                logger.debug("probe failed", metadata: ["instance": "\(instance.id)", "error": "\(error)"])
            }
            return .unreachable(Self.cause(of: error))
        }
    }

    public func start(_ launch: ContainerLaunch, on instance: Instance, now: Double) async throws {
        let spec = try JSONEncoder().encode(RunnerCommand.Spec(launch, runtime: settings.runtime, runAs: settings.runAs))
        // Set once `--detach` is sent: a failure from then on may come after the runner started it.
        let sent = Mutex(false)
        let outcome = await onWorker(instance, commands) { session, connection throws(SSHError) -> String? in
            try self.ensureRunner(session, connection, instance)
            sent.withLock { $0 = true }
            let out = try session.run(RunnerCommand.runner(["--detach"]), stdin: [UInt8](spec), timeout: self.settings.commandTimeout)
            switch out.exitStatus {
            case 0: return nil
            case 3:  // already has a record: fine if it is this very start, retried
                if let status = try self.rawStatus(launch.uuid, session), status.state == "running" { return nil }
                return "the runner already holds a finished record of it"
            default: return "runner --detach exited \(out.exitStatus): \(out.stderrText.prefix(500))"
            }
        }
        switch outcome {
        case .success(nil):
            logger.info("container started", metadata: ["container": "\(launch.uuid)", "instance": "\(instance.id)"])
        case .success(let refusal?): throw PoolError(refusal)
        case .failure(let error) where sent.withLock({ $0 }): throw StartUnanswered("\(error)")  // the runner may have started it
        case .failure(let error): throw PoolError("\(error)")  // it was never asked
        }
    }

    public func stop(_ uuid: String, on instance: Instance, now: Double) async {
        let signal: String? = stopping.withLock { all in
            let entry = all[uuid] ?? (first: now, last: -.infinity)
            guard now - entry.last >= settings.signalInterval else { return nil }
            all[uuid] = (entry.first, now)
            return now - entry.first >= settings.killAfter ? "KILL" : "TERM"
        }
        guard let signal else { return }
        let outcome = await onWorker(instance, commands) { session, _ throws(SSHError) in
            try session.run(RunnerCommand.runner(["--kill", signal, uuid]), timeout: self.settings.commandTimeout).exitStatus
        }
        logger.info(
            "stop sent",
            metadata: [
                "container": "\(uuid)", "instance": "\(instance.id)", "signal": "\(signal)",
                "outcome": "\(outcome.map { $0 == 0 ? "ended" : "still running" })",
            ])
    }

    public func release(_ uuid: String, on instance: Instance) async {
        stopping.withLock { _ = $0.removeValue(forKey: uuid) }
        let outcome = await onWorker(instance, commands) { session, _ throws(SSHError) in
            try session.run(RunnerCommand.runner(["--forget", uuid]), timeout: self.settings.commandTimeout).exitStatus
        }
        if case .failure(let error) = outcome {
            logger.debug("forget failed; the next probe reports the result again", metadata: ["container": "\(uuid)", "error": "\(error)"])
        }
    }

    public func instanceGone(_ id: String) async {
        connections.withLock { _ = $0.removeValue(forKey: id) }
    }

    // MARK: Helpers (on pool threads)

    /// Runs `body` on `pool` with the worker's verified session.
    private func onWorker<T: Sendable>(
        _ instance: Instance, _ pool: BlockingPool,
        _ body: @escaping @Sendable (SSHSession, WorkerConnection) throws(SSHError) -> T
    ) async -> Result<T, SSHError> {
        let connection = connections.withLock { all in
            if let existing = all[instance.id] { return existing }
            let made = WorkerConnection()
            all[instance.id] = made
            return made
        }
        let target = WorkerConnection.Target(
            host: instance.address, port: instance.sshPort ?? 22,
            user: instance.sshUser ?? settings.defaultUser, reportedHostKey: instance.hostKey,
            expectedSecret: instance.tags[settings.secretTag], instanceID: instance.id)
        let settings = settings
        let logger = logger
        do {
            return try await pool.run {
                Result { () throws(SSHError) -> T in
                    try connection.withSession(target, settings: settings, logger: logger) { session throws(SSHError) in
                        try body(session, connection)
                    }
                }
            }
        } catch {
            return .failure(.timeout("waiting for a free SSH thread"))
        }
    }

    /// Installs the runner unless the worker already has this very binary.
    /// A probe failure as a boot-failure cause an operator can act on.
    static func cause(of error: SSHError) -> String {
        switch error {
        case .connect(let m): "SSH connection refused or unreachable (\(m))"
        case .timeout(let m): "SSH timed out (\(m))"
        case .identity(let m): "host identity mismatch (\(m))"
        case .authentication(let m): "SSH login refused (\(m))"
        case .session(let m) where m.hasPrefix(Self.deployFailed): "runner deploy failed (\(m))"
        case .session(let m): "SSH session failed (\(m))"
        case .backingOff: "not tried (backing off)"
        }
    }

    static let deployFailed = "installing the runner failed"

    private func ensureRunner(_ session: SSHSession, _ connection: WorkerConnection, _ instance: Instance) throws(SSHError) {
        guard !connection.runnerChecked else { return }
        if try installedChecksum(session) != runnerChecksum {
            let started = ContinuousClock.now
            let out = try session.run(RunnerCommand.install, stdin: runner, timeout: settings.commandTimeout + Double(runner.count) / 1_000_000)
            guard out.exitStatus == 0, try installedChecksum(session) == runnerChecksum else {
                throw .session("\(Self.deployFailed) (exit \(out.exitStatus)): \(out.stderrText.prefix(300))")
            }
            logger.info(
                "runner installed",
                metadata: [
                    "instance": "\(instance.id)", "bytes": "\(runner.count)",
                    "seconds": "\(started.duration(to: .now))",
                ])
        }
        connection.runnerChecked = true
    }

    private func installedChecksum(_ session: SSHSession) throws(SSHError) -> String? {
        let out = try session.run(RunnerCommand.checksum, timeout: settings.commandTimeout)
        return out.stdoutText.split(separator: " ").first.map(String.init)
    }

    private func rawStatus(_ uuid: String, _ session: SSHSession) throws(SSHError) -> RunnerCommand.Status? {
        let out = try session.run(RunnerCommand.runner(["--status", uuid]), timeout: settings.commandTimeout)
        guard out.exitStatus == 0 else { return nil }
        return try? JSONDecoder().decode(RunnerCommand.Status.self, from: Data(out.stdout))
    }

    /// A finished container's result; a stale one (its runner died) has no exit code.
    private func status(_ uuid: String, _ session: SSHSession) throws(SSHError) -> FinishedContainer? {
        guard let s = try rawStatus(uuid, session) else { return nil }
        switch s.state {
        case "done": return FinishedContainer(uuid: uuid, exitCode: s.exitCode, log: s.logTail ?? "", reason: s.reason)
        case "stale": return FinishedContainer(uuid: uuid, exitCode: nil, log: s.logTail ?? "")
        default: return nil
        }
    }
}
