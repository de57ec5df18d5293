import Foundation

/// A real OpenSSH sshd on 127.0.0.1 for tests: its own ed25519 host key, one authorized key,
/// and `CDD_INSTANCE_ROOT` set in every session (as the loopback driver does), logging to a file.
///
/// The port is a socket this object binds and listens on before it returns, so no other process
/// can take it in between: sshd cannot listen on a socket it is given nor report a port it
/// picked, so each connection is accepted here and served by an `sshd -i` (inetd mode) of its
/// own. Nothing is waited for at start: connections queue on the socket from the first moment.
public final class TestSSHD {
    public let folder: String
    public var port: Int { listener.port }
    public let root: String
    public let hostPublicKey: String
    private let listener: Listener

    public init(authorizedKey: String, folder: String = Harness.temporaryFolder()) async throws {
        self.folder = folder
        root = folder + "/root"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let keygen = try await Harness.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", folder + "/host_ed25519"])
        guard keygen.status == 0 else { throw HarnessError("ssh-keygen: \(keygen.output)") }
        hostPublicKey = try String(contentsOfFile: folder + "/host_ed25519.pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try (authorizedKey + "\n").write(toFile: folder + "/authorized_keys", atomically: true, encoding: .utf8)
        chmod(folder + "/authorized_keys", 0o600)
        if getuid() == 0 { try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true) }
        let config = """
            HostKey \(folder)/host_ed25519
            AuthorizedKeysFile \(folder)/authorized_keys
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            LogLevel INFO
            SetEnv CDD_INSTANCE_ROOT=\(root) SHLVL=1
            """
        try config.write(toFile: folder + "/sshd_config", atomically: true, encoding: .utf8)
        let check = try await Harness.run("/usr/sbin/sshd", ["-t", "-f", folder + "/sshd_config"])
        guard check.status == 0 else { throw HarnessError("sshd refuses its config: \(check.output)") }
        listener = try Listener(sshd: ["/usr/sbin/sshd", "-i", "-f", folder + "/sshd_config", "-E", folder + "/sshd.log"])
    }

    public var log: String { (try? String(contentsOfFile: folder + "/sshd.log", encoding: .utf8)) ?? "" }

    /// How many logins sshd accepted so far.
    public var acceptedLogins: Int { log.components(separatedBy: "Accepted publickey").count - 1 }

    /// The machine dies: every session and everything it started is killed at once, and a new
    /// connection is dropped as soon as it is accepted (the port stays ours, so no other
    /// server can answer on it).
    public func stop() { listener.killSessions(refuseNew: true) }

    deinit {
        listener.close()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The listening socket and its accept thread: one `sshd -i` per connection, each reaped by
    /// a thread of its own when it ends.
    private final class Listener: @unchecked Sendable {
        // @unchecked: `sessions` and `refusing` are guarded by `lock`; the rest is immutable.
        private let socket: BoundPort
        private let lock = NSLock()
        private var sessions: [ChildProcess] = []
        private var refusing = false
        var port: Int { socket.port }

        init(sshd: [String]) throws {
            socket = try BoundPort(listening: true)
            let thread = Thread { [self] in acceptLoop(sshd) }
            thread.start()
        }

        private func acceptLoop(_ sshd: [String]) {
            while true {
                let connection = accept(socket.fd, nil, nil)
                if connection < 0 {
                    if errno == EINTR || errno == ECONNABORTED { continue }
                    return  // shut down by close()
                }
                defer { Glibc.close(connection) }  // the child has its own copy
                guard lock.withLock({ !refusing }),
                      let session = try? ChildProcess(sshd[0], Array(sshd.dropFirst()), input: connection, output: connection)
                else { continue }
                lock.withLock { sessions.append(session) }
                Thread.detachNewThread { session.waitUntilExit() }  // reaped when it ends
            }
        }

        func killSessions(refuseNew: Bool) {
            let live = lock.withLock {
                refusing = refusing || refuseNew
                return sessions
            }
            let doomed = live.filter(\.isRunning).map(\.processIdentifier)
            for pid in doomed.flatMap({ [$0] + Harness.descendants(of: $0) }) { kill(pid, SIGKILL) }
        }

        /// Stops accepting (waking the accept thread) and kills every session.
        func close() {
            killSessions(refuseNew: true)
            shutdown(socket.fd, Int32(SHUT_RDWR))
        }
    }
}

/// A TCP server that accepts connections and never says a word: an SSH peer that hangs.
public final class SilentServer {
    public var port: Int { socket.port }
    private let socket: BoundPort
    private let thread: Thread
    private let accepts = AcceptCount()

    /// How many connections it accepted so far.
    public var acceptedConnections: Int { accepts.value }

    /// Listening before it returns, on a port the kernel picked.
    public init() throws {
        socket = try BoundPort(listening: true)
        let listener = socket.fd
        let accepts = accepts
        thread = Thread {
            var held: [Int32] = []
            while true {
                let c = accept(listener, nil, nil)
                if c < 0 { break }
                held.append(c)  // kept open, never written to
                accepts.increment()
            }
            held.forEach { close($0) }
        }
        thread.start()
    }

    // Wakes the accept loop; BoundPort closes the descriptor.
    deinit { shutdown(socket.fd, Int32(SHUT_RDWR)) }
}

private final class AcceptCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
