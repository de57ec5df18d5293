import DriverHost
import Foundation
import Logging
import Units
import WorkerPool

/// The one SSH connection to one worker: made on first use, verified, pinned, reused for every
/// command, and made again after a failure — no sooner than its back-off allows, so a worker
/// that is down costs one connection attempt per back-off step, never a tight loop (recent
/// OpenSSH also penalises sources that connect without authenticating; ours always do).
/// Used from pool threads only; `lock` serializes its commands.
final class WorkerConnection: @unchecked Sendable {
    struct Target: Sendable {
        var host: String
        var port: Int
        var user: String
        /// The host key the driver reported (OpenSSH public key line), if any.
        var reportedHostKey: String?
        /// The instance's secret tag, if any.
        var expectedSecret: String?
        var instanceID: String
    }

    private let lock = NSLock()
    private var session: SSHSession?
    private var pinnedHostKey: [UInt8]?
    private var failures = 0
    private var retryAt = ContinuousClock.now
    /// The runner on the worker is known to match ours (checked once per connection).
    var runnerChecked = false

    /// Runs `body` with a verified session. Errors that leave the session in doubt close it.
    func withSession<T>(
        _ target: Target, settings: SSHWorkerExecutor.Settings, logger: Logger,
        _ body: (SSHSession) throws(SSHError) -> T
    ) throws(SSHError) -> T {
        lock.lock()
        defer { lock.unlock() }
        let session = try connected(target, settings: settings, logger: logger)
        do {
            return try body(session)
        } catch {
            self.session = nil  // a timed-out or broken channel leaves the session unusable
            runnerChecked = false
            throw error
        }
    }

    private func connected(_ target: Target, settings: SSHWorkerExecutor.Settings, logger: Logger) throws(SSHError) -> SSHSession {
        if let session {
            do {
                try session.keepalive()  // sends only when one is due
                return session
            } catch {
                self.session = nil
                runnerChecked = false
            }
        }
        let wait = ContinuousClock.now.duration(to: retryAt)
        guard wait <= .zero else {
            throw .backingOff(seconds: wait.inSeconds)
        }
        do {
            let session = try SSHSession(
                host: target.host, port: target.port, user: target.user,
                privateKeyPath: settings.privateKeyPath, connectTimeout: settings.connectTimeout)
            try verify(session, target, settings: settings, logger: logger)
            failures = 0
            self.session = session
            return session
        } catch {
            failures += 1
            // 0.5 s, 1 s, 2 s … up to the cap: prompt while a worker boots, cheap when it is gone.
            let delay = min(settings.maxReconnectDelay, settings.firstReconnectDelay * Double(1 << min(failures - 1, 10)))
            retryAt = ContinuousClock.now + .milliseconds(Int64(delay * 1000))
            throw error
        }
    }

    private func verify(_ session: SSHSession, _ target: Target, settings: SSHWorkerExecutor.Settings, logger: Logger) throws(SSHError) {
        if let pinned = pinnedHostKey, pinned == session.hostKey { return }
        let fingerprint = HostIdentity.fingerprint(session.hostKey)
        if let reported = target.reportedHostKey {
            guard let blob = HostIdentity.keyBlob(ofPublicKeyLine: reported) else {
                throw .identity("the driver reported an unreadable host key for \(target.instanceID)")
            }
            guard HostIdentity.constantTimeEqual(blob, session.hostKey) else {
                throw .identity(
                    "\(target.host):\(target.port) presented \(fingerprint), not the host key the driver reported for \(target.instanceID)")
            }
        } else if let secret = target.expectedSecret {
            let output = try session.run(RunnerCommand.readSecret, timeout: settings.commandTimeout, captureLimit: 256)
            guard output.exitStatus == 0, HostIdentity.constantTimeEqual(output.stdout, Array(secret.utf8)) else {
                throw .identity("\(target.host):\(target.port) (\(fingerprint)) does not hold the secret of \(target.instanceID)")
            }
        } else {
            throw .identity("cannot verify \(target.instanceID): the driver reports no host key and the instance has no secret tag")
        }
        if pinnedHostKey != nil {
            logger.notice(
                "worker host key changed and was verified again", metadata: ["instance": "\(target.instanceID)", "host_key": "\(fingerprint)"])
        } else {
            logger.info("worker verified", metadata: ["instance": "\(target.instanceID)", "host_key": "\(fingerprint)"])
        }
        pinnedHostKey = session.hostKey
    }
}
