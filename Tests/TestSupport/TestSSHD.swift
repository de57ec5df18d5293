import Foundation

/// A real OpenSSH sshd on 127.0.0.1 for tests: its own ed25519 host key, one authorized key,
/// and `CDD_INSTANCE_ROOT` set in every session (as the loopback driver does), logging to a file.
public final class TestSSHD {
    public let folder: String
    public let port: Int
    public let root: String
    public let hostPublicKey: String
    /// The listening sshd.
    public let pid: Int32

    public init(authorizedKey: String, folder: String = Harness.temporaryFolder()) throws {
        self.folder = folder
        root = folder + "/root"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let keygen = try Harness.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", folder + "/host_ed25519"])
        guard keygen.status == 0 else { throw HarnessError("ssh-keygen: \(keygen.output)") }
        hostPublicKey = try String(contentsOfFile: folder + "/host_ed25519.pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try (authorizedKey + "\n").write(toFile: folder + "/authorized_keys", atomically: true, encoding: .utf8)
        chmod(folder + "/authorized_keys", 0o600)
        if getuid() == 0 { try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true) }
        // A free port can be taken by someone else before sshd binds it: try a few.
        var failure = ""
        for _ in 0..<5 {
            let port = Harness.portToTry()
            if let pid = try Self.start(folder: folder, root: root, port: port, failure: &failure) {
                self.port = port
                self.pid = pid
                return
            }
        }
        throw HarnessError("sshd did not start: \(failure)")
    }

    /// Starts sshd on `port`; its pid once it listens and has written its pid file, else nil
    /// with what went wrong in `failure`.
    private static func start(folder: String, root: String, port: Int, failure: inout String) throws -> Int32? {
        let config = """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(folder)/host_ed25519
            PidFile \(folder)/sshd.pid
            AuthorizedKeysFile \(folder)/authorized_keys
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            LogLevel INFO
            SetEnv CDD_INSTANCE_ROOT=\(root) SHLVL=1
            MaxStartups 100:30:200
            """
        try config.write(toFile: folder + "/sshd_config", atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: folder + "/sshd.pid")
        // sshd daemonizes and writes its pid file; no long-lived Process object is kept
        // (Foundation's Process on Linux can hang later waits while one runs).
        let started = try Harness.run("/usr/sbin/sshd", ["-f", folder + "/sshd_config", "-E", folder + "/sshd.log"])
        let log = { (try? String(contentsOfFile: folder + "/sshd.log", encoding: .utf8)) ?? "" }
        guard started.status == 0 else {
            failure = "exit \(started.status): \(started.output) \(log())"
            return nil
        }
        // The daemon's child writes the pid file after the parent has exited, so wait for it.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: folder + "/sshd.pid", encoding: .utf8),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                if waitListening(port) { return pid }
                kill(pid, SIGKILL)
                failure = "not listening on \(port): \(log())"
                return nil
            }
            usleep(10_000)
        }
        failure = "no pid file after 10 s: \(log())"
        return nil
    }

    public var log: String { (try? String(contentsOfFile: folder + "/sshd.log", encoding: .utf8)) ?? "" }

    /// How many logins sshd accepted so far.
    public var acceptedLogins: Int { log.components(separatedBy: "Accepted publickey").count - 1 }

    /// The machine dies: sshd and every session it started are killed at once.
    public func stop() {
        let doomed = [pid] + Harness.descendants(of: pid)
        for p in doomed { kill(p, SIGKILL) }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    static func waitListening(_ port: Int) -> Bool {
        for _ in 0..<250 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if rc == 0 { return true }
            usleep(20_000)
        }
        return false
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
