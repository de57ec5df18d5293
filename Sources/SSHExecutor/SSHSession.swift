import CSSH2
import Glibc

/// One authenticated SSH connection (libssh2, non-blocking, every step bounded by a deadline).
/// Commands run one channel at a time, so a worker never sees more than one of the sessions
/// its sshd allows (MaxSessions, 10 by default). Not thread-safe: its owner serializes use and
/// runs it on a thread outside Swift's cooperative pool, since every call blocks in poll(2).
final class SSHSession {
    private let socket: TCPSocket
    private let session: OpaquePointer
    /// The server's host key blob (the base64-decoded middle field of an OpenSSH public key line).
    let hostKey: [UInt8]
    let hostKeyType: Int32

    /// Connects, does the handshake and authenticates with an ed25519 (or ECDSA) key file.
    init(host: String, port: Int, user: String, privateKeyPath: String, connectTimeout: Double) throws(SSHError) {
        SSHLibrary.initialize()
        let deadline = Deadline(after: connectTimeout)
        let sock = try TCPSocket(host: host, port: port, deadline: deadline)
        guard let session = libssh2_session_init_ex(nil, nil, nil, nil) else { throw .session("cannot allocate a session") }
        libssh2_session_set_blocking(session, 0)
        let fd = sock.fd
        do throws(SSHError) {
            try Self.step(session, sock, deadline, "handshake") { libssh2_session_handshake(session, fd) }
            var length = 0
            var type: Int32 = 0
            guard let raw = libssh2_session_hostkey(session, &length, &type), length > 0 else {
                throw SSHError.session("the server sent no host key")
            }
            hostKey = raw.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
            hostKeyType = type
            try Self.step(session, sock, deadline, "authentication") {
                libssh2_userauth_publickey_fromfile_ex(session, user, UInt32(user.utf8.count), nil, privateKeyPath, nil)
            }
        } catch {
            libssh2_session_free(session)
            throw Self.classify(error, user: user)
        }
        // A keepalive every 15 s when idle, answered by the server: a NAT or firewall in
        // between never forgets the connection, and a dead peer shows up on the next use.
        libssh2_keepalive_config(session, 1, 15)
        self.session = session
        self.socket = sock
    }

    deinit {
        // Best effort, bounded: a dead peer must not hold up the close.
        let deadline = Deadline(after: 1)
        let s = session
        _ = try? Self.step(s, socket, deadline, "disconnect") {
            libssh2_session_disconnect_ex(s, SSH_DISCONNECT_BY_APPLICATION, "bye", "")
        }
        libssh2_session_free(session)
    }

    /// The result of one command.
    struct Output: Sendable {
        var exitStatus: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
        /// Output beyond the capture limit was read and dropped.
        var truncated: Bool
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Runs `command` (a shell line) on a new channel, streams `stdin` to it, and captures at most
    /// `captureLimit` bytes of each output stream.
    func run(_ command: String, stdin: [UInt8] = [], timeout: Double, captureLimit: Int = 1 << 20) throws(SSHError) -> Output {
        let deadline = Deadline(after: timeout)
        let s = session
        var channel: OpaquePointer?
        while channel == nil {
            channel = libssh2_channel_open_ex(s, "session", 7, 2 * 1024 * 1024, 32768, nil, 0)
            if channel == nil {
                guard libssh2_session_last_errno(s) == LIBSSH2_ERROR_EAGAIN else { throw .session("cannot open a channel: \(lastError)") }
                guard wait(deadline) else { throw .timeout("opening a channel") }
            }
        }
        defer { libssh2_channel_free(channel) }
        try Self.step(s, socket, deadline, "exec") {
            libssh2_channel_process_startup(channel, "exec", 4, command, UInt32(command.utf8.count))
        }
        var written = 0
        while written < stdin.count {
            let rc = stdin.withUnsafeBufferPointer { buf in
                buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) {
                    libssh2_channel_write_ex(channel, 0, $0 + written, min(buf.count - written, 32768))
                }
            }
            if rc >= 0 { written += rc; continue }
            guard rc == LIBSSH2_ERROR_EAGAIN else { throw .session("writing stdin: \(lastError)") }
            guard wait(deadline) else { throw .timeout("writing stdin") }
        }
        try Self.step(s, socket, deadline, "closing stdin") { libssh2_channel_send_eof(channel) }

        var output = Output(exitStatus: -1, stdout: [], stderr: [], truncated: false)
        var buffer = [CChar](repeating: 0, count: 16384)
        while true {
            var progressed = false
            for stream: Int32 in [0, 1] {
                let n = libssh2_channel_read_ex(channel, stream, &buffer, buffer.count)
                if n > 0 {
                    progressed = true
                    let bytes = buffer[0..<n].map { UInt8(bitPattern: $0) }
                    if stream == 0 {
                        append(bytes, to: &output.stdout, limit: captureLimit, truncated: &output.truncated)
                    } else {
                        append(bytes, to: &output.stderr, limit: captureLimit, truncated: &output.truncated)
                    }
                } else if n < 0 && n != LIBSSH2_ERROR_EAGAIN {
                    throw .session("reading output: \(lastError)")
                }
            }
            if progressed { continue }
            if libssh2_channel_eof(channel) != 0 { break }
            guard wait(deadline) else { throw .timeout("waiting for the command to finish") }
        }
        try Self.step(s, socket, deadline, "closing the channel") { libssh2_channel_close(channel) }
        try Self.step(s, socket, deadline, "waiting for the exit status") { libssh2_channel_wait_closed(channel) }
        output.exitStatus = libssh2_channel_get_exit_status(channel)
        return output
    }

    /// Sends a keepalive when one is due; a dead connection shows up as an error here.
    func keepalive() throws(SSHError) {
        var next: Int32 = 0
        let rc = libssh2_keepalive_send(session, &next)
        if rc != 0 && rc != LIBSSH2_ERROR_EAGAIN { throw .session("keepalive: \(lastError)") }
    }

    private func append(_ bytes: [UInt8], to buffer: inout [UInt8], limit: Int, truncated: inout Bool) {
        let room = max(0, limit - buffer.count)
        if bytes.count > room { truncated = true }
        buffer += bytes.prefix(room)
    }

    private func wait(_ deadline: Deadline) -> Bool {
        let directions = libssh2_session_block_directions(session)
        return socket.wait(
            read: directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0,
            write: directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0, deadline: deadline)
    }

    private var lastError: String { Self.lastError(session) }

    private static func lastError(_ session: OpaquePointer) -> String {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        return message.map { "\(String(cString: $0)) (\(code))" } ?? "error \(code)"
    }

    /// Repeats a non-blocking libssh2 call until it is done, fails, or the deadline passes.
    private static func step(
        _ session: OpaquePointer, _ socket: borrowing TCPSocket, _ deadline: Deadline, _ what: String,
        _ call: () -> Int32
    ) throws(SSHError) {
        while true {
            let rc = call()
            if rc == 0 { return }
            guard rc == LIBSSH2_ERROR_EAGAIN else { throw .session("\(what) failed: \(lastError(session))") }
            let directions = libssh2_session_block_directions(session)
            guard
                socket.wait(
                    read: directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0,
                    write: directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0, deadline: deadline)
            else {
                throw .timeout(what)
            }
        }
    }

    private static func classify(_ error: SSHError, user: String) -> SSHError {
        if case .session(let m) = error, m.hasPrefix("authentication") { return .authentication("key refused for user \(user): \(m)") }
        return error
    }
}

/// libssh2's global initialisation, done once (it is not thread-safe itself).
enum SSHLibrary {
    private static let done: Bool = { libssh2_init(0) == 0 }()
    static func initialize() { _ = done }
}
