import DriverHost
import Foundation
import Logging
import Testing
import TestSupport
import WorkerPool
@testable import SSHExecutor

/// The executor against a real sshd and the real runner: deploy, start, probe, result, forget.
@Suite(.serialized) struct ExecutorTests {
    let folder = Harness.temporaryFolder()

    func executor(_ key: String, connectTimeout: Double = 10, reconnectDelay: Double = 0.5) throws -> SSHWorkerExecutor {
        var settings = SSHWorkerExecutor.Settings(privateKeyPath: key, runnerBinary: Harness.buildFolder + "/cloud-dispatch-runner")
        settings.defaultUser = NSUserName()
        settings.connectTimeout = connectTimeout
        settings.firstReconnectDelay = reconnectDelay
        settings.maxReconnectDelay = max(settings.maxReconnectDelay, reconnectDelay)
        settings.commandTimeout = 10
        return try SSHWorkerExecutor(settings: settings, logger: Logger(label: "test"))
    }

    func instance(port: Int, hostKey: String?) -> Instance {
        Instance(id: "i-test", providerType: "t", state: .running, address: "127.0.0.1", sshPort: port, hostKey: hostKey, tags: [:])
    }

    @Test func startProbeResultAndForget() async throws {
        let key = try await Harness.sshKey(in: folder)
        let sshd = try await TestSSHD(authorizedKey: key.publicKey)
        let executor = try executor(key.path)
        let worker = instance(port: sshd.port, hostKey: sshd.hostPublicKey)

        #expect(await executor.probe(worker, now: 0) == .ready(running: [], finished: []))
        #expect(FileManager.default.isExecutableFile(atPath: sshd.root + "/bin/cloud-dispatch-runner"), "the runner was not deployed")

        // The container runs until the test lets it end, so the probe sees it running however
        // slow the machine is (a fixed sleep was outrun on a loaded CI machine).
        let release = folder + "/let-it-end"
        let launch = ContainerLaunch(uuid: "ctr-exec-test",
                                     command: ["sh", "-c", "echo \"$GREETING\"; i=0; while [ ! -e \(release) ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; exit 5"],
                                     image: nil, environment: ["GREETING": "hello"], cwd: "/", maxRunTime: 0, gpuDevices: [])
        try await executor.start(launch, on: worker, now: 0)
        #expect(await executor.probe(worker, now: 0) == .ready(running: ["ctr-exec-test"], finished: []))
        #expect(FileManager.default.createFile(atPath: release, contents: nil))

        var result = ProbeResult.unreachable(nil)
        var ended = false
        for _ in 0..<600 where !ended {
            result = await executor.probe(worker, now: 0)
            if case .ready(let running, let finished) = result { ended = running.isEmpty && !finished.isEmpty }
            if !ended { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ended)
        guard case .ready(_, let finished) = result, let f = finished.first else { return }
        #expect(f.uuid == "ctr-exec-test")
        #expect(f.exitCode == 5)
        #expect(f.log.contains("hello"))

        await executor.release("ctr-exec-test", on: worker)
        #expect(await executor.probe(worker, now: 0) == .ready(running: [], finished: []))
        #expect(sshd.acceptedLogins == 1, "one connection for every command")
    }

    @Test func aStartTheRunnerNeverAnswersMayHaveActed() async throws {
        let key = try await Harness.sshKey(in: folder)
        let sshd = try await TestSSHD(authorizedKey: key.publicKey)
        // A runner that takes the start and never answers, as on a worker that hangs.
        let hung = folder + "/hung-runner"
        #expect(FileManager.default.createFile(atPath: hung, contents: Data("#!/bin/sh\nexec sleep 30\n".utf8),
                                               attributes: [.posixPermissions: 0o755]))
        var settings = SSHWorkerExecutor.Settings(privateKeyPath: key.path, runnerBinary: hung)
        settings.defaultUser = NSUserName()
        settings.commandTimeout = 4  // room for the deploy commands before it on a busy machine
        let executor = try SSHWorkerExecutor(settings: settings, logger: Logger(label: "test"))
        let launch = ContainerLaunch(uuid: "ctr-hung", command: ["true"], image: nil, environment: [:], cwd: "/", maxRunTime: 0, gpuDevices: [])
        let worker = instance(port: sshd.port, hostKey: sshd.hostPublicKey)
        // Not a refusal: the pool must count it as started there and let the next probe say.
        await #expect(throws: StartUnanswered.self) { try await executor.start(launch, on: worker, now: 0) }
        // The timed-out session is not used again: the next command logs in anew.
        _ = await executor.probe(worker, now: 0)
        #expect(sshd.acceptedLogins == 2, "\(sshd.acceptedLogins) logins")
    }

    @Test func aWorkerThatAcceptsButNeverSpeaksIsUnreachableQuickly() async throws {
        let key = try await Harness.sshKey(in: folder)
        let silent = try SilentServer()
        // A back-off far longer than a loaded machine can take between the two probes.
        let executor = try executor(key.path, connectTimeout: 1, reconnectDelay: 600)
        let worker = instance(port: silent.port, hostKey: nil)
        // The first probe says why (a boot failure's cause); the second is not even tried.
        let first = await executor.probe(worker, now: 0)
        guard case .unreachable(let cause?) = first, cause.hasPrefix("SSH timed out") else { Issue.record("first probe: \(first)"); return }
        #expect(await executor.probe(worker, now: 0) == .unreachable(nil))
        // Its accept thread may lag on a loaded machine: wait for the first connection to show.
        #expect(await Harness.eventually { silent.acceptedConnections > 0 })
        #expect(silent.acceptedConnections == 1, "the second probe backs off instead of dialling again")
        await #expect(throws: PoolError.self) {
            try await executor.start(ContainerLaunch(uuid: "x", command: ["true"], image: nil, environment: [:], cwd: "/",
                                                     maxRunTime: 0, gpuDevices: []), on: worker, now: 0)
        }
    }
}
