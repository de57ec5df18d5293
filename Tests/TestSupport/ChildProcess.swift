import Foundation

/// A program started with posix_spawn, for the tests. Foundation's `Process.run` on Linux reads
/// past a buffer while it lists /proc/self/fd (swift-corelibs-foundation#5472, in 6.3.1), which
/// crashes a test process holding many descriptors now and then — and the API's tests hold
/// thousands. The child gets no descriptor of ours but its three standard ones.
///
///     let child = try ChildProcess("/bin/echo", ["hi"], output: log)
///     child.waitUntilExit()
///     child.terminationStatus   // 0
public final class ChildProcess: @unchecked Sendable {
    public let processIdentifier: Int32
    private let state = NSLock()
    private var status: Int32?

    /// `input`, `output` and `errors` are open descriptors the child reads and writes (nil:
    /// /dev/null). `environment` nil: this process's.
    public init(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                input: Int32? = nil, output: Int32? = nil, errors: Int32? = nil) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let input { posix_spawn_file_actions_adddup2(&actions, input, 0) } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if let output { posix_spawn_file_actions_adddup2(&actions, output, 1) } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        if let errors { posix_spawn_file_actions_adddup2(&actions, errors, 2) } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        Self.closeTheRest(&actions)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in env { free(p) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, nil, argv, env)
        guard result == 0 else { throw HarnessError("cannot start \(path): \(String(cString: strerror(result)))") }
        processIdentifier = pid
    }

    /// posix_spawn_file_actions_addclosefrom_np (glibc 2.34): looked up at run time, since the
    /// Swift Glibc module does not declare it.
    private static func closeTheRest(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
    }

    /// A pipe for a child's output: the parent reads `read`; `write` goes to the child and is
    /// closed here once the child has it (`closeWriteEnd`). Both are close-on-exec.
    public static func pipe() -> (read: FileHandle, write: Int32) {
        var fds: [Int32] = [0, 0]
        _ = Glibc.pipe(&fds)
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }  // (pipe2 is not in Swift's Glibc)
        return (FileHandle(fileDescriptor: fds[0], closeOnDealloc: true), fds[1])
    }

    /// Sends `signal` (SIGTERM by default).
    public func signal(_ signal: Int32 = SIGTERM) { kill(processIdentifier, signal) }

    /// Whether it still runs (reaps it when it has ended).
    public var isRunning: Bool { reap(blocking: false) == nil }

    public func waitUntilExit() { _ = reap(blocking: true) }

    /// The exit code, or 128 + the signal that ended it; -1 while it runs.
    public var terminationStatus: Int32 { reap(blocking: false) ?? -1 }

    private func reap(blocking: Bool) -> Int32? {
        state.lock()
        defer { state.unlock() }
        if let status { return status }
        var raw: Int32 = 0
        var got: pid_t
        repeat { got = waitpid(processIdentifier, &raw, blocking ? 0 : WNOHANG) } while got < 0 && errno == EINTR
        guard got == processIdentifier else { return nil }
        let signal = raw & 0x7f
        status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        return status
    }
}
