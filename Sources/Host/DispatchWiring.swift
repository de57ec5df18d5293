import Config
import DriverHost
import Foundation
import JSON
import Logging
import Queue
import SSHExecutor
import Scheduler
import WorkerPool

/// Builds the dispatcher a configuration describes: its driver and instance set, the SSH
/// executor and its key, the pool, the instance types and limits.
enum DispatchWiring {
    static func dispatcher(
        _ config: Configuration, origins: SettingOrigins = SettingOrigins(), store: any ContainerStore, logger: Logger,
        metrics: DispatchMetrics? = nil
    ) async throws -> Dispatcher {
        try await wired(config, origins: origins, store: store, logger: logger, metrics: metrics).dispatcher
    }

    /// The dispatcher and the driver it uses (whose health `/_health` shows). `drainOnly`: it
    /// finishes what its id holds and places nothing new (a taken-over set; see `Takeover`), on
    /// `loaded`, the driver this daemon already uses.
    static func wired(
        _ config: Configuration, origins: SettingOrigins = SettingOrigins(), store: any ContainerStore, logger: Logger,
        metrics: DispatchMetrics? = nil, drainOnly: Bool = false, loaded: (any CloudDriver)? = nil
    ) async throws -> (dispatcher: Dispatcher, driver: any CloudDriver) {
        let opened: DriverOpening.Opened
        if let loaded {
            let text = String(decoding: try JSONEncoder().encode(config.effectiveDriverConfig), as: UTF8.self)
            opened = DriverOpening.Opened(driver: loaded, instanceSet: try await loaded.openInstanceSet(id: config.dispatcherID, config: text))
        } else {
            opened = try await DriverOpening.open(
                config, setID: config.dispatcherID, driverConfig: config.effectiveDriverConfig,
                origins: origins, logger: logger, callTimeout: .seconds(config.driver.callTimeout))
        }
        let driver = opened.driver
        var instanceSet = opened.instanceSet
        // Not fatal: a catalogue call may fail for a moment; creates of these types would fail every time.
        for problem in await CatalogueCheck.problems(config.instanceTypes, in: opened) {
            logger.warning("instance type cannot be created", metadata: ["problem": "\(origins.describe(problem))"])
        }
        if let metrics { instanceSet = MeteredInstanceSet(instanceSet, metrics: metrics) }
        // Every line of the pool and the executor names the driver.
        var logger = logger
        logger[metadataKey: "driver"] = "\(driver.info.id)"

        let key = try workerKey(config.workerKeyPath)
        var ssh = SSHWorkerExecutor.Settings(privateKeyPath: config.workerKeyPath, runnerBinary: try runnerBinary(config))
        if !config.workers.sshUser.isEmpty { ssh.defaultUser = config.workers.sshUser }
        ssh.runtime = config.workers.runtime.rawValue
        ssh.runAs = config.workers.runAs
        ssh.connectTimeout = config.workers.connectTimeout
        ssh.commandTimeout = config.workers.commandTimeout
        ssh.maxConcurrentProbes = config.workers.maxConcurrentProbes
        ssh.secretTag = config.workers.tagPrefix + "secret"
        let executor = try SSHWorkerExecutor(settings: ssh, logger: logger)

        var pool = WorkerPool.Settings(instanceSetID: config.dispatcherID)
        pool.tagPrefix = config.workers.tagPrefix
        pool.image = config.driver.image
        pool.sshPublicKey = key
        pool.instanceSecrets = true
        pool.initCommand = config.workers.initCommand
        applyTimeouts(config, to: &pool)
        if let capabilities = try? await driver.capabilities() { pool.use(capabilities) }  // create/destroy batch sizes
        pool.cloudRate = config.driver.callsPerSecond
        pool.cloudBurst = Double(config.driver.callBurst)
        let types = config.instanceTypes
        // Both stores keep create intents; a store that did not would leave creates unrecorded.
        let workerPool = WorkerPool(
            settings: pool, instanceSet: instanceSet, executor: executor, types: types, logger: logger,
            intents: store as? any CreateIntentLog)
        logger.notice(
            "dispatching",
            metadata: [
                "driver": "\(driver.info.id)", "instance_set": "\(config.dispatcherID)",
                "types": "\(types.map(\.name).joined(separator: ","))", "runtime": "\(ssh.runtime)",
            ])
        let dispatcher = Dispatcher(
            id: config.dispatcherID, store: store, pool: workerPool, types: types, maxPriceFactor: config.scheduling.maxPriceFactor,
            limits: config.scheduling.limits, logger: logger, metrics: metrics, drainOnly: drainOnly)
        return (dispatcher, driver)
    }

    /// The pool's timeouts and intervals (also what a reload changes: `ReloadRules` lists them).
    static func applyTimeouts(_ config: Configuration, to pool: inout WorkerPool.Settings) {
        pool.bootTimeout = config.workers.bootTimeout
        pool.probeTimeout = config.workers.probeTimeout
        pool.shutdownRetry = config.workers.shutdownRetry
        pool.listGrace = config.workers.listGrace
        pool.termTimeout = config.workers.termTimeout
        pool.probeInterval = config.workers.probeInterval
        pool.syncInterval = max(config.workers.probeInterval, 10)
        pool.listOffRound = true  // a listing of thousands of instances must not hold up a round
        pool.probeOffRound = true  // nor must the slowest of thousands of probes
        // Twice the fleet may fail to boot in an hour before every create stops: room for one
        // bad wave and its retries, not for a night of them.
        pool.maxBootFailuresPerHour = max(10, 2 * config.scheduling.limits.maxInstances)
    }

    /// The runner deployed to workers: configured, or the one installed beside this executable.
    static func runnerBinary(_ config: Configuration) throws -> String {
        let path = config.workers.runnerBinary ?? PluginsFolder.executableFolder() + "/cloud-dispatch-runner"
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw SettingProblem("workers.runner_binary", "no runner at \(path): build it (make runner) or set workers.runner_binary")
        }
        return path
    }

    /// The public half of the workers' SSH key; the key pair is made (ed25519) when missing.
    static func workerKey(_ path: String) throws -> String {
        if !FileManager.default.fileExists(atPath: path) {
            let keygen = Process()
            keygen.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
            keygen.arguments = ["-q", "-t", "ed25519", "-N", "", "-C", "cloud-dispatch worker key", "-f", path]
            keygen.standardInput = FileHandle.nullDevice
            keygen.environment = ChildEnvironment.scrubbed()
            do { try keygen.run() } catch { throw SettingProblem("workers.ssh_key", "cannot run /usr/bin/ssh-keygen to make \(path)") }
            keygen.waitUntilExit()
            guard keygen.terminationStatus == 0 else { throw SettingProblem("workers.ssh_key", "ssh-keygen could not make \(path)") }
        }
        guard let text = try? String(contentsOfFile: path + ".pub", encoding: .utf8) else {
            throw SettingProblem("workers.ssh_key", "cannot read the public key \(path).pub")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
