import DriverHost
import Foundation
import Logging
import Testing
import TestSupport
@testable import SSHExecutor

/// A worker is trusted only once verified — by the host key the driver reported, or by the
/// instance secret — and its key is pinned; a failing worker is retried after a back-off.
@Suite(.serialized) struct WorkerIdentityTests {
    let folder = Harness.temporaryFolder()
    let logger = Logger(label: "test")

    func settings(_ key: String) -> SSHWorkerExecutor.Settings {
        var s = SSHWorkerExecutor.Settings(privateKeyPath: key, runnerBinary: "/bin/true")
        s.connectTimeout = 10  // a real sshd on a loaded machine; failures here are refusals, not waits
        s.commandTimeout = 10
        return s
    }

    func target(_ sshd: TestSSHD, hostKey: String? = nil, secret: String? = nil) -> WorkerConnection.Target {
        .init(host: "127.0.0.1", port: sshd.port, user: NSUserName(), reportedHostKey: hostKey, expectedSecret: secret, instanceID: "i-1")
    }

    /// The timeout is a bound, not a wait: `echo` answers at once, unless a full suite swamps the
    /// machine (5 s was once too short).
    func echo(_ connection: WorkerConnection, _ target: WorkerConnection.Target, _ key: String) throws(SSHError) -> String {
        try connection.withSession(target, settings: settings(key), logger: logger) { s throws(SSHError) in
            try s.run("echo hi", timeout: 30).stdoutText
        }
    }

    @Test func theDriversHostKeyVerifiesTheWorker() async throws {
        let key = try await Harness.sshKey(in: folder)
        let sshd = try await TestSSHD(authorizedKey: key.publicKey)
        #expect(try echo(WorkerConnection(), target(sshd, hostKey: sshd.hostPublicKey), key.path) == "hi\n")

        let impostor = try await TestSSHD(authorizedKey: key.publicKey)  // another machine, another key
        do {
            _ = try echo(WorkerConnection(), target(impostor, hostKey: sshd.hostPublicKey), key.path)
            Issue.record("a worker with the wrong host key was trusted")
        } catch {
            guard case .identity = error else { Issue.record("expected an identity error, got \(error)"); return }
        }
    }

    @Test func theInstanceSecretVerifiesTheWorker() async throws {
        let key = try await Harness.sshKey(in: folder)
        let sshd = try await TestSSHD(authorizedKey: key.publicKey)
        try "s3cret-value".write(toFile: sshd.root + "/instance-secret", atomically: true, encoding: .utf8)
        #expect(try echo(WorkerConnection(), target(sshd, secret: "s3cret-value"), key.path) == "hi\n")
        do {
            _ = try echo(WorkerConnection(), target(sshd, secret: "another-secret"), key.path)
            Issue.record("a worker without the instance's secret was trusted")
        } catch {
            guard case .identity = error else { Issue.record("expected an identity error, got \(error)"); return }
        }
        do {
            _ = try echo(WorkerConnection(), target(sshd), key.path)
            Issue.record("a worker with no way to verify it was trusted")
        } catch {
            guard case .identity = error else { Issue.record("expected an identity error, got \(error)"); return }
        }
    }

    @Test func aDeadConnectionIsRemadeAfterABackOff() async throws {
        let key = try await Harness.sshKey(in: folder)
        let sshd = try await TestSSHD(authorizedKey: key.publicKey)
        let connection = WorkerConnection()
        let t = target(sshd, hostKey: sshd.hostPublicKey)
        #expect(try echo(connection, t, key.path) == "hi\n")
        #expect(try echo(connection, t, key.path) == "hi\n")
        #expect(sshd.acceptedLogins == 1)

        sshd.stop()  // the worker dies: the session breaks, and the next attempt waits its turn
        #expect(throws: SSHError.self) { _ = try echo(connection, t, key.path) }
        var attempts = 0
        for _ in 0..<20 {
            do { _ = try echo(connection, t, key.path) } catch {
                if case .backingOff = error { continue }
                attempts += 1
            }
        }
        #expect(attempts <= 1, "20 calls in a row reached the dead worker \(attempts) times")
    }
}
