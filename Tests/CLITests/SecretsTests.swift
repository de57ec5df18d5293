import APIClient
import Foundation
import Queue
import Testing
import TestSupport

/// Secrets around the state folder and the daemon's children (issue 11, hole 4): the state
/// folder is private and the daemon's own, an open local admin token is refused, and the
/// daemon's environment (where operators put tokens and cloud credentials) reaches neither a
/// worker's init command nor a container, which runs as `workers.run_as`.
@Suite(.serialized) struct SecretsTests {
    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]) as? Int) ?? -1
    }

    /// The exit status of a daemon that should refuse to start; nil, with the daemon stopped,
    /// when it still runs after `seconds` (it accepted what it should have refused).
    static func refusal(_ daemon: Daemon, seconds: Double = 30) async -> Int32? {
        guard let status = await daemon.process.exit(within: .seconds(seconds)) else {
            _ = await daemon.stop()
            return nil
        }
        return status
    }

    @Test func anOpenStateFolderIsMadePrivateAndTheNewTokenIsTheOwnersOnly() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let state = folder + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        chmod(state, 0o755)
        let daemon = try Daemon(stateDir: state)
        defer { daemon.stopWithoutWaiting() }
        #expect(await daemon.ready(), "\(daemon.log)")
        #expect(Self.mode(state) == 0o700, "state folder mode \(String(Self.mode(state), radix: 8))")
        #expect(Self.mode(daemon.tokenFile) == 0o600)
        #expect(daemon.log.contains("state folder made private"), "\(daemon.log)")
    }

    @Test(.enabled(if: getuid() == 0, "SKIPPED: giving a folder to another user needs root"))
    func aStateFolderOwnedBySomeoneElseIsRefused() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let state = folder + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)
        chown(state, 65534, 65534)
        let daemon = try Daemon(stateDir: state)
        #expect(await Self.refusal(daemon) == 1)
        let owner = getpwuid(65534).map { String(cString: $0.pointee.pw_name) + " (uid 65534)" } ?? "uid 65534"
        #expect(daemon.log.contains("state_dir (--state-dir): \(state) is owned by \(owner), not by "), "\(daemon.log)")
        #expect(!FileManager.default.fileExists(atPath: state + "/queue.sqlite3"), "nothing is written there")
    }

    @Test func anAdminTokenOthersCanReadIsRefused() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let state = folder + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let secret = "cd_\(UInt64.random(in: 1...UInt64.max))_open_token"
        _ = FileManager.default.createFile(atPath: state + "/admin.token", contents: Data((secret + "\n").utf8))
        chmod(state + "/admin.token", 0o644)
        let daemon = try Daemon(stateDir: state)
        #expect(await Self.refusal(daemon) == 1)
        #expect(daemon.log.contains("cloud-dispatch: \(state)/admin.token is readable or writable by group or others; run chmod 600"), "\(daemon.log)")
        #expect(!daemon.log.contains(secret), "the token was logged")
    }

    /// End to end on loopback: the daemon holds a token and cloud credentials in its
    /// environment; the init command and the container see neither, and the container runs
    /// as `nobody` with the state folders closed to it.
    @Test(.enabled(if: getuid() == 0, "SKIPPED: run_as needs the runner to run as root (loopback runs it as the daemon's user)"))
    func theDaemonsSecretsReachNoWorkerProcessAndContainersRunAsTheConfiguredUser() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let nobody = try #require(getpwnam("nobody"), "no user nobody on this machine")
        let secrets = ["CLOUD_DISPATCH_TOKEN": "cdtok-\(UInt64.random(in: 1...UInt64.max))",
                       "AWS_SECRET_ACCESS_KEY": "aws-\(UInt64.random(in: 1...UInt64.max))"]
        try """
            dispatcher_id: secrets
            scheduling: {idle_timeout: 2s}
            workers: {probe_interval: 1s, poll_interval: 1s, boot_timeout: 30s, probe_timeout: 6s,
                      connect_timeout: 4s, command_timeout: 10s, run_as: nobody,
                      init_command: 'env > \(folder)/init.env.tmp && mv \(folder)/init.env.tmp \(folder)/init.env'}
            """.write(toFile: folder + "/config.yml", atomically: true, encoding: .utf8)
        let state = folder + "/state"
        let daemon = try Daemon(stateDir: state, extra: ["--config", folder + "/config.yml"], dispatch: true, environment: secrets)
        defer { daemon.stopWithoutWaiting { Daemon.killInstanceSSHDs(of: state) } }
        #expect(await daemon.ready(), "\(daemon.log)")
        let client = try daemon.client()
        var spec = ContainerSpec(command: ["sh", "-c", "echo uid=$(id -u) groups=$(id -G); env; ls \(state); echo ls=$?"])
        spec.runtimeConstraints.vcpus = 1
        spec.runtimeConstraints.ram = 256 << 20
        let uuid = try await client.submit([spec])[0].uuid
        var record = try await client.get(uuid)
        let deadline = Date().addingTimeInterval(60)
        while record.state != .complete && record.state != .cancelled && Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            record = try await client.get(uuid)
        }
        #expect(record.state == .complete && record.exitCode == 0, "\(record)\n\(daemon.log)")
        let log = try await client.log(uuid)
        #expect(log.contains("uid=\(nobody.pointee.pw_uid) groups=\(nobody.pointee.pw_gid)\n"), "\(log)")
        #expect(log.contains("ls=2"), "the state folder is closed to the container: \(log)")

        // (The instance's own folder goes when it is shut down: the init command writes here.)
        let initEnvironment = try String(contentsOfFile: folder + "/init.env", encoding: .utf8)
        #expect(initEnvironment.contains("CDD_INSTANCE_ROOT="), "\(initEnvironment)")
        for (name, value) in secrets {
            #expect(!log.contains(name) && !log.contains(value), "\(name) reached the container")
            #expect(!initEnvironment.contains(name) && !initEnvironment.contains(value), "\(name) reached the init command")
        }
    }
}
