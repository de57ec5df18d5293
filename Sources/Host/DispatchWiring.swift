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
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func dispatcher(_ config: Configuration, store: any ContainerStore, logger: Logger,
                           metrics: DispatchMetrics? = nil) async throws -> Dispatcher {
        let folder = PluginsFolder.resolve(flag: config.driver.plugins)
        let loader = DriverLoader(pool: BlockingPool(name: "driver", threads: 8), logger: logger, callTimeout: .seconds(120))
        let report = await loader.load(folder: folder.path)
        guard let driver = report.driver(id: config.driver.name) else {
            let refused = report.refused.map { "\n  refused \($0)" }.joined()
            throw Failure("no driver \"\(config.driver.name)\" in \(folder.path) (\(folder.source.rawValue))\(refused)")
        }
        let driverConfig = String(decoding: try JSONEncoder().encode(config.effectiveDriverConfig), as: UTF8.self)
        var instanceSet: any InstanceSet
        do {
            instanceSet = try await driver.openInstanceSet(id: config.dispatcherID, config: driverConfig)
        } catch {
            throw Failure("driver \(config.driver.name) refused its configuration: \(error)")
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
        let types = config.instanceTypes.map(instanceType)
        let workerPool = WorkerPool(settings: pool, instanceSet: instanceSet, executor: executor, types: types, logger: logger)
        let s = config.scheduling
        let limits = limits(config)
        logger.notice("dispatching", metadata: ["driver": "\(driver.info.id)", "instance_set": "\(config.dispatcherID)",
                                                "types": "\(types.map(\.name).joined(separator: ","))", "runtime": "\(ssh.runtime)"])
        return Dispatcher(id: config.dispatcherID, store: store, pool: workerPool, types: types, maxPriceFactor: s.maxPriceFactor,
                          limits: limits, logger: logger, metrics: metrics)
    }

    /// The pool's timeouts and intervals (also what a reload changes).
    static func applyTimeouts(_ config: Configuration, to pool: inout WorkerPool.Settings) {
        pool.bootTimeout = config.workers.bootTimeout
        pool.probeTimeout = config.workers.probeTimeout
        pool.shutdownRetry = config.workers.shutdownRetry
        pool.listGrace = config.workers.listGrace
        pool.termTimeout = config.workers.termTimeout
        pool.probeInterval = config.workers.probeInterval
        pool.syncInterval = max(config.workers.probeInterval, 10)
    }

    static func limits(_ config: Configuration) -> Limits {
        let s = config.scheduling
        return Limits(maxInstances: s.maxInstances, maxHourlySpend: s.maxHourlySpend, maxConcurrentCreates: s.maxConcurrentCreates,
                      maxContainersPerInstance: s.maxContainersPerInstance, idleTimeout: s.idleTimeout)
    }

    static func instanceType(_ t: Configuration.InstanceTypeSettings) -> InstanceType {
        InstanceType(name: t.name, providerType: t.providerType, vcpus: t.vcpus, ram: t.ram, scratch: t.scratch, addedScratch: t.addedScratch,
                     gpuCount: t.gpuCount, gpuStack: t.gpuStack, gpuVRAM: t.gpuVRAM, price: t.price, preemptible: t.preemptible,
                     quotaGroup: t.quotaGroup)
    }

    /// The runner deployed to workers: configured, or the one installed beside this executable.
    static func runnerBinary(_ config: Configuration) throws -> String {
        let path = config.workers.runnerBinary ?? PluginsFolder.executableFolder() + "/cloud-dispatch-runner"
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw Failure("no runner at \(path): build it (make runner) or set workers.runner_binary")
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
            try keygen.run()
            keygen.waitUntilExit()
            guard keygen.terminationStatus == 0 else { throw Failure("ssh-keygen could not make \(path)") }
        }
        guard let text = try? String(contentsOfFile: path + ".pub", encoding: .utf8) else {
            throw Failure("cannot read the public key \(path).pub")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
