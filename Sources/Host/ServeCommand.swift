import API
import ArgumentParser
import Config
import DriverHost
import ExecutorPool
import Foundation
import Logging
import PostgresQueue
import Queue
import SQLiteQueue
import WorkerPool

/// `cloud-dispatch serve`: the daemon.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: the queue and its HTTP API.")

    @Option(help: ArgumentHelp("Configuration file (YAML).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Address of the HTTP API, overriding the configuration.", valueName: "host:port"))
    var listen: String?

    @Option(help: ArgumentHelp("State folder, overriding the configuration.", valueName: "dir"))
    var stateDir: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log format: logfmt or json (default: the configuration's log_format).")
    var logFormat: StructuredLogHandler.Format?

    @Flag(help: "Serve the queue only: create no instances, run no containers.")
    var noDispatch = false

    @Flag(help: "Print the effective configuration, every default filled in, and exit.")
    var dumpConfig = false

    func run() async throws {
        var settings = try Self.loadConfiguration(config)
        let overrides = try commandLineOverrides()
        overrides(&settings)
        if dumpConfig { return print(ConfigLoader.dump(settings), terminator: "") }
        let logger = Wiring.logger(level: logLevel, format: logFormat ?? StructuredLogHandler.Format(rawValue: settings.logFormat) ?? .logfmt)
        let (registry, metrics) = Wiring.metrics()
        let origins = settingOrigins
        let maxConnections = OpenFileLimit.check(settings, logger: logger)
        do {
            try StateFolder.prepare(settings.stateDir, logger: logger)
            // Before the store opens or an instance is made.
            if let busy = ListenCheck.problem(host: settings.listenHost, port: settings.listenPort) { throw SettingProblem("listen", busy) }
        } catch {
            printError(origins.message(for: error))
            throw ExitCode(1)
        }
        let tokens = try Self.tokens(settings, logger: logger)
        let store = try await Self.openStore(settings, origins: origins, logger: logger)
        logger.info("queue open", metadata: ["store": "\(settings.queue.store == "sqlite" ? settings.sqlitePath : "postgres")"])

        let writeProbe = StoreWriteProbe(store: store)
        let probing = Task { await writeProbe.run(every: .seconds(5)) }
        defer { probing.cancel() }

        var dispatching: Task<Void, Never>?
        var dispatcher: Dispatcher?
        var executorDispatcher: ExecutorDispatcher?
        var management: (any ManagementService)?
        var lease: (any DispatcherLease)?
        var membership: Membership?
        if !noDispatch {
            do {
                // Taken over by another dispatcher: say by whom and when, and touch nothing.
                try await Self.refuseIfTakenOver(settings.dispatcherID, store: store)
                // Before the driver is opened: a second daemon on this id must not touch its instances.
                let held = try await store.acquireLease(for: settings.dispatcherID, holder: .thisProcess)
                lease = held
                let members = store as? any DispatcherMembership
                let me = DispatcherMember(
                    id: settings.dispatcherID, driver: settings.executor?.name ?? settings.driver.name,
                    version: "driver ABI \(ABIVersion.host)", host: LeaseHolder.thisProcess.host, pid: Int(getpid()))
                try await members?.register(me)  // refused (fenced) if taken over meanwhile
                if let executor = settings.executor {
                    // The pool is an executor backend: its dispatcher's loop instead of the VM one.
                    let plugin = try await ExecutorOpening.plugin(settings, executor, origins: origins, logger: logger)
                    let made = try await ExecutorOpening.dispatcher(
                        plugin, settings, executor, id: settings.dispatcherID, store: store, logger: logger)
                    management = ExecutorManagement(dispatcher: made, lease: held)
                    if let members {
                        let open: DrainOpener = { [settings] id in
                            try await ExecutorOpening.dispatcher(plugin, settings, executor, id: id, drainOnly: true, store: store, logger: logger)
                        }
                        membership = Membership(store: store, membership: members, me: me, config: settings, open: open, logger: logger)
                    }
                    let loop = DispatchLoop(dispatcher: made, pollInterval: executor.pollInterval, lease: held)
                    dispatching = Task { await loop.run(wakeups: store.changes()) }
                    executorDispatcher = made
                } else {
                    let (made, driver) = try await DispatchWiring.wired(settings, origins: origins, store: store, logger: logger, metrics: metrics)
                    management = PoolManagement(dispatcher: made, runnerPath: try DispatchWiring.runnerBinary(settings), lease: held, driver: driver)
                    if let members {
                        let open: DrainOpener = { [settings] id in
                            var adopted = settings
                            adopted.dispatcherID = id
                            return try await DispatchWiring.wired(adopted, store: store, logger: logger, drainOnly: true, loaded: driver).dispatcher
                        }
                        membership = Membership(store: store, membership: members, me: me, config: settings, open: open, logger: logger)
                    }
                    let loop = DispatchLoop(dispatcher: made, pollInterval: settings.workers.pollInterval, lease: held)
                    dispatching = Task { await loop.run(wakeups: store.changes()) }
                    dispatcher = made
                }
            } catch {
                await lease?.release()
                await store.close()
                printError(origins.message(for: error))
                throw ExitCode(1)
            }
        }
        // Stopping leaves instances and containers as they are: the next start adopts them.
        defer { dispatching?.cancel() }
        let membershipTask = membership.map { m in Task { await m.run() } }
        defer { membershipTask?.cancel() }
        // Another daemon acted as this id while our lease was lost: stop (exit 1) rather than act
        // on a stale view; a restart rebuilds it from the queue and the cloud.
        let takeover = TakeoverWatch(lease: lease)
        defer { takeover.cancel() }
        let reloader = ConfigReloader(
            path: config ?? Self.defaultPath, current: settings, dispatcher: dispatcher, metrics: metrics,
            logger: logger, overrides: overrides)
        let drivers = DriverFolderWatch(
            folder: PluginsFolder.resolve(flag: settings.executor.map { $0.plugins } ?? settings.driver.plugins).path,
            inUse: noDispatch ? nil : (settings.executor?.name ?? settings.driver.name, settings.dispatcherID),
            loader: Wiring.driverLoader(
                logger: logger, callTimeout: .seconds(120),
                loadTimeout: .seconds(settings.driver.loadTimeout)),
            logger: logger)
        let signals = ServeSignals(reloader: reloader, drivers: drivers, dispatching: dispatching, logger: logger)
        defer { signals.cancel() }

        var api = APIServer(
            store: store, tokens: tokens, maxBodyBytes: settings.api.maxBodyBytes,
            limits: ConnectionLimits(settings.api, maxConnections: maxConnections), management: management, logger: logger,
            metrics: { registry.emitToString() }, writeProbe: writeProbe)
        api.takeoverAfter = settings.queue.takeoverAfter
        let host = settings.listenHost
        let app = api.application(host: host, port: settings.listenPort) { port in
            logger.notice("listening", metadata: ["address": "http://\(host):\(port)"])
            SystemdNotify.send("READY=1\nSTATUS=serving on \(host):\(port)")
        }
        do {
            try await app.runService()  // returns on SIGTERM or SIGINT, after in-flight requests
        } catch {
            dispatching?.cancel()
            membershipTask?.cancel()
            await membership?.stop()
            await dispatching?.value
            await dispatcher?.pool.close()
            await executorDispatcher?.backend.close()
            await lease?.release()
            await store.close()
            printError(origins.message(for: ListenCheck.explain(error, host: host, port: settings.listenPort)))
            throw ExitCode(1)
        }
        SystemdNotify.send("STOPPING=1")  // also when stopped by other means than a signal
        dispatching?.cancel()
        membershipTask?.cancel()
        await membershipTask?.value
        await membership?.stop()  // adopted sets stay claimed: the next start resumes them
        await dispatching?.value  // the round in progress ends before the driver and the store close
        await dispatcher?.pool.close()
        await executorDispatcher?.backend.close()
        await lease?.release()
        await store.close()
        if let reason = takeover.reason ?? membership?.reason {
            printError("cloud-dispatch: \(reason); stopped")
            throw ExitCode(1)
        }
        logger.notice("stopped")
    }

    static let defaultPath = "/etc/cloud-dispatch/config.yml"

    /// Throws `fenced` naming the survivor when another dispatcher took this id over.
    static func refuseIfTakenOver(_ id: String, store: any ContainerStore) async throws {
        guard let members = store as? any DispatcherMembership else { return }
        if let message = try await members.members().first(where: { $0.id == id })?.fencedMessage {
            throw QueueError.fenced(message)
        }
    }

    /// --state-dir and --listen, checked once, applied to the file's settings (and again on reload).
    func commandLineOverrides() throws -> @Sendable (inout Configuration) -> Void {
        let stateDir = stateDir.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        var address: (String, Int)?
        if let listen {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
                printError("--listen must be HOST:PORT")
                throw ExitCode(2)
            }
            address = (String(listen[..<colon]), port)
        }
        let chosen = address
        return { settings in
            if let stateDir { settings.stateDir = stateDir }
            if let (host, port) = chosen {
                settings.listenHost = host
                settings.listenPort = port
            }
        }
    }

    /// The configuration file, or the embedded defaults when none is given and the default
    /// path does not exist.
    static func loadConfiguration(_ path: String?) throws -> Configuration {
        let chosen = path ?? defaultPath
        if path == nil && !FileManager.default.fileExists(atPath: chosen) {
            return Configuration(stateDir: FileManager.default.currentDirectoryPath + "/cloud-dispatch-state")
        }
        switch ConfigLoader.load(path: chosen) {
        case .success(let config): return config
        case .failure(let problems):
            printError(problems.description)
            throw ExitCode(2)
        }
    }

    /// The configured tokens; with none configured, one admin token is made in the state folder
    /// (mode 0600) so a local setup works out of the box. Its value is never logged.
    static func tokens(_ settings: Configuration, logger: Logger) throws -> TokenTable {
        var entries = settings.api.tokens.map { TokenTable.Entry(name: $0.name, role: Role(rawValue: $0.role) ?? .submitter, secret: $0.secret) }
        if entries.isEmpty {
            let path = settings.stateDir + "/admin.token"
            let secret: String
            do { secret = try LocalToken.readOrCreate(path) } catch { printError("cloud-dispatch: \(error)"); throw ExitCode(1) }
            entries.append(TokenTable.Entry(name: "local-admin", role: .admin, secret: secret))
            logger.notice("no tokens configured: using the local admin token", metadata: ["file": "\(path)"])
        }
        return TokenTable(entries)
    }

    static func openStore(_ settings: Configuration, origins: SettingOrigins, logger: Logger) async throws -> any ContainerStore {
        let policy = QueuePolicy(maxDispatchAttempts: settings.queue.maxDispatchAttempts)
        do {
            if settings.queue.store == "sqlite" {
                return try SQLiteQueue.SQLiteContainerStore.open(path: settings.sqlitePath, policy: policy)
            }
            return try await PostgresQueue.PostgresContainerStore.open(url: settings.queue.store, policy: policy, logger: logger)
        } catch {
            printError(origins.message(for: SettingProblem("queue.store", StoreCheck.problemText(error))))
            throw ExitCode(1)
        }
    }
}
