import Foundation

/// A program started with posix_spawn, for the tests. Foundation's `Process.run` on Linux reads
/// past a buffer while it lists /proc/self/fd (swift-corelibs-foundation#5472, in 6.3.1), which
/// crashes a test process holding many descriptors now and then — and the API's tests hold
/// thousands. The child gets no descriptor of ours but its three standard ones.
///
///     let child = try ChildProcess("/bin/echo", ["hi"], output: log)
///     await child.exit()        // 0
///
/// Waiting never holds a thread of Swift's cooperative pool (2 threads on a 2-core machine,
/// shared by every test): `exit()` waits on a thread of its own.
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

    /// What `handle` (a pipe's read end) yields until its end, read on a thread of its own so no
    /// thread of the cooperative pool blocks in read(2).
    public static func chunks(of handle: FileHandle) -> AsyncStream<Data> {
        AsyncStream { continuation in
            Thread.detachNewThread {
                var chunk = handle.availableData
                while !chunk.isEmpty {
                    continuation.yield(chunk)
                    chunk = handle.availableData
                }
                continuation.finish()
            }
        }
    }

    /// Sends `signal` (SIGTERM by default), unless it has been reaped: its pid may be another's by then.
    public func signal(_ signal: Int32 = SIGTERM) {
        state.withLock { if status == nil { _ = kill(processIdentifier, signal) } }
    }

    /// Whether it still runs (reaps it when it has ended).
    public var isRunning: Bool { reap() == nil }

    /// Blocks the calling thread until it ends: only for a thread that is not the cooperative
    /// pool's (a dedicated one, as `exit()` uses).
    public func waitUntilExit() {
        waitForExit()
        _ = reap()
    }

    /// Its exit status (as `terminationStatus`) once it has ended, waited for on a thread of its own.
    @discardableResult
    public func exit() async -> Int32 {
        if let status = reap() { return status }
        await withCheckedContinuation { (ended: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                self.waitForExit()
                ended.resume()
            }
        }
        return reap() ?? -1
    }

    /// Its exit status, or nil when it still runs after `limit` (it is left running).
    public func exit(within limit: Duration) async -> Int32? {
        let first = FirstOutcome()
        return await withCheckedContinuation { (outcome: CheckedContinuation<Int32?, Never>) in
            Task {
                let status = await self.exit()
                if first.claim() { outcome.resume(returning: status) }
            }
            Task {
                try? await Task.sleep(for: limit)
                if first.claim() { outcome.resume(returning: nil) }
            }
        }
    }

    /// SIGTERM (or `signal`), then its exit status; SIGKILL when it is still there after `grace`.
    @discardableResult
    public func stop(_ signal: Int32 = SIGTERM, grace: Duration = .seconds(20)) async -> Int32 {
        self.signal(signal)
        let killer = Task {
            try await Task.sleep(for: grace)
            self.signal(SIGKILL)
        }
        defer { killer.cancel() }
        return await exit()
    }

    /// The exit code, or 128 + the signal that ended it; -1 while it runs.
    public var terminationStatus: Int32 { reap() ?? -1 }

    /// Blocks until it has ended, without reaping it (waitid WNOWAIT): the reaping stays under
    /// `state`, and nobody waits holding the lock. ECHILD: reaped already, its status kept.
    private func waitForExit() {
        var info = siginfo_t()
        while waitid(P_PID, id_t(processIdentifier), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
    }

    /// Reaps it if it has ended (never blocks); its status, nil while it runs.
    private func reap() -> Int32? {
        state.lock()
        defer { state.unlock() }
        if let status { return status }
        var raw: Int32 = 0
        var got: pid_t
        repeat { got = waitpid(processIdentifier, &raw, WNOHANG) } while got < 0 && errno == EINTR
        guard got == processIdentifier else { return nil }
        let signal = raw & 0x7f
        status = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        return status
    }
}

/// Which of two racing outcomes came first: `claim()` is true exactly once.
private final class FirstOutcome: @unchecked Sendable {
    // @unchecked: `claimed` is guarded by `lock`.
    private let lock = NSLock()
    private var claimed = false

    func claim() -> Bool {
        lock.withLock {
            defer { claimed = true }
            return !claimed
        }
    }
}
