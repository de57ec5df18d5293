import Foundation
import Logging
import Testing
import TestSupport
@testable import SSHExecutor

/// The SSH layer against a real OpenSSH sshd: commands, streams, limits, identity, timeouts.
@Suite(.serialized) struct SSHSessionTests {
    let folder = Harness.temporaryFolder()

    @Test func runsCommandsWithStatusStreamsAndStdin() async throws {
        let key = try await Harness.sshKey(in: folder)
        let sshd = try await TestSSHD(authorizedKey: key.publicKey)
        let session = try SSHSession(host: "127.0.0.1", port: sshd.port, user: NSUserName(), privateKeyPath: key.path, connectTimeout: 5)

        let out = try session.run("echo out; echo err >&2; exit 7", timeout: 5)
        #expect(out.exitStatus == 7)
        #expect(out.stdoutText == "out\n")
        #expect(out.stderrText == "err\n")

        let payload = [UInt8]((0..<300_000).map { UInt8($0 % 251) })
        let echoed = try session.run("cat", stdin: payload, timeout: 10)
        #expect(echoed.stdout == payload)

        let big = try session.run("head -c 100000 /dev/zero", timeout: 5, captureLimit: 1000)
        #expect(big.stdout.count == 1000)
        #expect(big.truncated)
        #expect(big.exitStatus == 0)

        #expect(HostIdentity.keyBlob(ofPublicKeyLine: sshd.hostPublicKey) == session.hostKey)
        #expect(sshd.acceptedLogins == 1, "three commands, one connection")
    }

    @Test func aCommandThatOutlivesItsTimeoutFails() async throws {
        let key = try await Harness.sshKey(in: folder)
        let sshd = try await TestSSHD(authorizedKey: key.publicKey)
        let session = try SSHSession(host: "127.0.0.1", port: sshd.port, user: NSUserName(), privateKeyPath: key.path, connectTimeout: 5)
        let started = Date()
        #expect(throws: SSHError.timeout("waiting for the command to finish")) {
            _ = try session.run("sleep 30", timeout: 0.5)
        }
        #expect(Date().timeIntervalSince(started) < 10, "bounded by the timeout, not by the peer")
    }

    @Test func aPeerThatNeverSpeaksSSHTimesOut() async throws {
        let key = try await Harness.sshKey(in: folder)
        let silent = try SilentServer()
        let started = Date()
        #expect(throws: SSHError.timeout("handshake")) {
            _ = try SSHSession(host: "127.0.0.1", port: silent.port, user: "root", privateKeyPath: key.path, connectTimeout: 0.5)
        }
        #expect(Date().timeIntervalSince(started) < 10, "bounded by the timeout, not by the peer")
        // Alive to the end: released after its last use, it would refuse the connection.
        withExtendedLifetime(silent) {}
    }

    @Test func aRefusedKeyIsAnAuthenticationError() async throws {
        let key = try await Harness.sshKey(in: folder)
        let other = try await Harness.sshKey(in: Harness.temporaryFolder())
        let sshd = try await TestSSHD(authorizedKey: other.publicKey)
        do {
            _ = try SSHSession(host: "127.0.0.1", port: sshd.port, user: NSUserName(), privateKeyPath: key.path, connectTimeout: 5)
            Issue.record("a key the worker does not know was accepted")
        } catch {
            guard case .authentication = error else { Issue.record("expected an authentication error, got \(error)"); return }
        }
    }

    @Test func nobodyListeningIsAConnectError() async throws {
        let key = try await Harness.sshKey(in: folder)
        let refusing = try BoundPort(listening: false)
        defer { withExtendedLifetime(refusing) {} }
        do {
            _ = try SSHSession(host: "127.0.0.1", port: refusing.port, user: "root", privateKeyPath: key.path, connectTimeout: 2)
            Issue.record("connected to nothing")
        } catch {
            guard case .connect = error else { Issue.record("expected a connect error, got \(error)"); return }
        }
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
