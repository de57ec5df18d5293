import ArgumentParser
import Benchmarks
import Config
import DriverHost
import Foundation
import JSON
import Logging
import Queue
import SQLiteQueue
import SSHExecutor
import WorkerPool

/// `cloud-dispatch bench dispatch`: submit → runner started, on warm loopback workers.
struct DispatchBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Submit one container at a time to a dispatcher with idle loopback workers; print submit → runner started, p50/p99.",
        discussion: """
            The dispatcher runs in this process on a fresh SQLite queue, the loopback driver (real sshd), the SSH
            executor and the real runner. Each latency is the queue's own timestamps: the submit's commit to the
            start recorded after the runner's --detach returned. The next container is submitted once the last
            one is complete, so a worker is always idle.
            """)

    @Option(help: "Containers measured.") var count = 100
    @Option(help: "Idle workers kept warm.") var workers = 2
    @Option(help: "Folder for the queue and the loopback instances (removed after).") var stateDir = "bench-dispatch-state"
    @Option(
        help: ArgumentHelp(
            "Runner binary to deploy (default: the static one from `make runner`, else the one beside this executable).", valueName: "file"))
    var runner: String?

    func run() async throws {
        let logger = Wiring.logger(level: .warning)
        let folder = URL(fileURLWithPath: stateDir).standardizedFileURL.path
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var config = Configuration(stateDir: folder)
        config.dispatcherID = "bench"
        config.scheduling.limits.idleTimeout = 3600
        config.workers.probeInterval = 0.2
        config.workers.pollInterval = 1
        config.workers.runnerBinary = runner ?? Self.defaultRunner()
        let store = try SQLiteContainerStore.open(path: config.sqlitePath, policy: QueuePolicy())
        let dispatcher = try await DispatchWiring.dispatcher(config, store: store, logger: logger)
        let loop = Task { await DispatchLoop(dispatcher: dispatcher, pollInterval: 1).run(wakeups: store.changes()) }

        print("runner: \(config.workers.runnerBinary ?? "?")")
        let warm = Date()
        let first = try await store.submit((0..<workers).map { _ in Self.spec() })
        for c in first { _ = try await ContainerWait.until([.complete, .cancelled], c.uuid, in: store) }
        print(
            String(
                format: "%d workers created, booted, verified, runner deployed, first container run: %.2f s", workers, Date().timeIntervalSince(warm))
        )

        var latencies: [Double] = []
        for _ in 0..<count {
            let c = try await store.submit([Self.spec()])[0]
            let started = try await ContainerWait.until([.running, .complete, .cancelled], c.uuid, in: store)
            guard let at = started.startedAt else { throw ValidationError("\(c.uuid) ended \(started.state.rawValue) without starting") }
            latencies.append(at.timeIntervalSince(c.createdAt) * 1000)
            _ = try await ContainerWait.until([.complete, .cancelled], c.uuid, in: store)
        }
        loop.cancel()
        await loop.value
        print("submit → runner started, \(latencies.count) containers on \(workers) idle workers: \(Latencies(latencies).summary)")
        Latencies(latencies).dispatchFigures(workers: workers).forEach { print($0.line) }
        let pool = dispatcher.pool
        let instances = await pool.views().map(\.id)
        for id in instances { await pool.shutdown(id, reason: "bench done", now: Date().timeIntervalSince1970) }
        await pool.callsSettled()
        await store.close()
        try? FileManager.default.removeItem(atPath: folder)
    }

    static func spec() -> ContainerSpec {
        var spec = ContainerSpec(command: ["true"])
        spec.runtimeConstraints.vcpus = 1
        spec.runtimeConstraints.ram = 256 << 20
        return spec
    }

    static func defaultRunner() -> String {
        let folder = PluginsFolder.executableFolder()
        let candidates = [
            folder + "/../../../.build-static/release/cloud-dispatch-runner", folder + "/../../.build-static/release/cloud-dispatch-runner",
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? folder + "/cloud-dispatch-runner"
    }
}

/// `cloud-dispatch bench probe`: one probe round over many workers.
struct ProbeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Create N loopback instances, then time probe rounds over all of them (one SSH connection per worker).")

    @Option(help: "Workers.") var count = 50
    @Option(help: "Rounds after the first (which connects, verifies and deploys the runner).") var rounds = 5
    @Option(help: "Probes at once.") var concurrency = 20
    @Option(help: "Folder for the loopback instances (removed after).") var stateDir = "bench-probe-state"
    @Option(help: ArgumentHelp("Runner binary to deploy.", valueName: "file")) var runner: String?

    func run() async throws {
        let logger = Wiring.logger(level: .warning)
        let folder = URL(fileURLWithPath: stateDir).standardizedFileURL.path
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let config = Configuration(stateDir: folder)
        guard case .object(var driverConfig) = config.effectiveDriverConfig else { throw ValidationError("unexpected loopback config") }
        driverConfig["max_instances"] = .integer(Int64(count))
        let set = try await DriverOpening.open(
            config, setID: "bench-probe", driverConfig: .object(driverConfig), origins: SettingOrigins(),
            logger: logger, pool: BlockingPool(name: "driver", threads: 4)
        ).instanceSet
        let publicKey = try DispatchWiring.workerKey(config.workerKeyPath)
        var settings = SSHWorkerExecutor.Settings(privateKeyPath: config.workerKeyPath, runnerBinary: runner ?? DispatchBench.defaultRunner())
        settings.maxConcurrentProbes = concurrency
        settings.secretTag = "bench-secret"
        let executor = try SSHWorkerExecutor(settings: settings, logger: logger)

        let type = InstanceTypeSpec(name: "local-small", providerType: "local-small", vcpus: 1, ram: 1 << 30, price: 0.01)
        var instances: [Instance] = []
        let creating = Date()
        do {
            while instances.count < count {
                instances += try await set.create(
                    CreateRequest(
                        instanceType: type, tags: ["bench": "probe"], sshPublicKey: publicKey,
                        count: min(16, count - instances.count)))
            }
        } catch {
            _ = try? await set.destroy(ids: instances.map(\.id))
            throw error
        }
        print(
            String(
                format: "%d loopback workers created in %.2f s; probing %d at a time", instances.count, Date().timeIntervalSince(creating),
                concurrency))
        for round in 0...rounds {
            let started = Date()
            let results = await withTaskGroup(of: ProbeResult.self) { group in
                for i in instances { group.addTask { await executor.probe(i, now: 0) } }
                return await group.reduce(into: [ProbeResult]()) { $0.append($1) }
            }
            let ready = results.filter { if case .ready = $0 { true } else { false } }.count
            print(
                String(
                    format: "round %d: %d of %d ready in %.1f ms%@", round, ready, instances.count, Date().timeIntervalSince(started) * 1000,
                    round == 0 ? " (connect, verify host key, deploy the runner)" : ""))
        }
        _ = try await set.destroy(ids: instances.map(\.id))
        try? FileManager.default.removeItem(atPath: folder)
    }
}
