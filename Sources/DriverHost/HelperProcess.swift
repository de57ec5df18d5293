import Foundation

/// A child process of this executable that touches a driver file so the daemon does not have
/// to: the vetting child (`DriverVetter`) and the driver process (`ProcessDriver`). Started with
/// posix_spawn — Foundation's `Process` on Linux reads past a buffer while it lists
/// /proc/self/fd (swift-corelibs-foundation#5472) — and given no descriptor of ours but:
///
///     fd 0  /dev/null
///     fd 1, 2  this process's standard error (a driver's own prints end up in the log)
///     fd 3  frames the child writes (`reports`, read here)
///     fd 4  frames the child reads (`requests`, written here; only with `requests: true`)
///
///     let child = try HelperProcess(executable, ["driver-vet", path])
///     let frame = Frames.read(child.reports, deadline: .now + .seconds(10))
///     child.kill(); let ended = child.wait()   // "killed by SIGKILL"
public final class HelperProcess: @unchecked Sendable {
    // @unchecked: the descriptors are written once in init; `ended` is guarded by `lock`.
    public let pid: pid_t
    /// Read end of the child's fd 3.
    public let reports: Int32
    /// Write end of the child's fd 4, or -1.
    public let requests: Int32
    private let lock = NSLock()
    private var ended: Termination?

    /// How a child ended: its exit status or the signal that killed it.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        public var description: String {
            switch self {
            case .exited(let status): "exited with status \(status)"
            case .signalled(let signal): "killed by \(Self.signalName(signal))"
            }
        }

        static func signalName(_ signal: Int32) -> String {
            let names: [Int32: String] = [
                SIGABRT: "SIGABRT", SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE",
                SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGTRAP: "SIGTRAP", SIGPIPE: "SIGPIPE", SIGSYS: "SIGSYS",
            ]
            return names[signal] ?? "signal \(signal)"
        }
    }

    /// `environment`: variables set in the child on top of this process's.
    public init(_ executable: String, _ arguments: [String], requests wantRequests: Bool = false, environment: [String: String] = [:]) throws {
        // Both pipes close-on-exec and moved above fd 4, so the dup2s below cannot clobber
        // each other whatever numbers pipe() handed out.
        let report = try Self.pipeAbove(10)
        var request: (read: Int32, write: Int32) = (-1, -1)
        if wantRequests {
            do { request = try Self.pipeAbove(10) } catch {
                close(report.read); close(report.write)
                throw error
            }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, 2, 1)
        posix_spawn_file_actions_adddup2(&actions, report.write, 3)
        if wantRequests { posix_spawn_file_actions_adddup2(&actions, request.read, 4) }
        Self.closeFrom(&actions, wantRequests ? 5 : 4)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let env = ProcessInfo.processInfo.environment.merging(environment) { _, set in set }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in env { free(p) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, nil, argv, env)
        close(report.write)
        if wantRequests { close(request.read) }
        guard result == 0 else {
            close(report.read)
            if wantRequests { close(request.write) }
            throw HelperProcessError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
        reports = report.read
        requests = request.write
    }

    deinit {
        close(reports)
        if requests >= 0 { close(requests) }
    }

    /// Sends `signal` (SIGKILL by default) unless the child has been reaped.
    public func kill(_ signal: Int32 = SIGKILL) {
        lock.lock()
        defer { lock.unlock() }
        if ended == nil { Glibc.kill(pid, signal) }
    }

    /// Waits for the child to end and reaps it.
    @discardableResult
    public func wait() -> Termination {
        lock.lock()
        defer { lock.unlock() }
        if let ended { return ended }
        var raw: Int32 = 0
        var got: pid_t
        repeat { got = waitpid(pid, &raw, 0) } while got < 0 && errno == EINTR
        let signal = raw & 0x7f
        let termination: Termination = got != pid ? .exited(-1) : signal == 0 ? .exited((raw >> 8) & 0xff) : .signalled(signal)
        ended = termination
        return termination
    }

    private static func pipeAbove(_ minimum: Int32) throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw HelperProcessError("pipe: \(String(cString: strerror(errno)))") }
        defer { close(fds[0]); close(fds[1]) }
        let read = fcntl(fds[0], F_DUPFD_CLOEXEC, minimum)
        let write = fcntl(fds[1], F_DUPFD_CLOEXEC, minimum)
        guard read >= 0, write >= 0 else {
            if read >= 0 { close(read) }
            if write >= 0 { close(write) }
            throw HelperProcessError("fcntl: \(String(cString: strerror(errno)))")
        }
        return (read, write)
    }

    /// posix_spawn_file_actions_addclosefrom_np (glibc 2.34), looked up at run time since the
    /// Swift Glibc module does not declare it. Without it, our descriptors are close-on-exec anyway
    /// where this file made them; others may leak into the child.
    private static func closeFrom(_ actions: inout posix_spawn_file_actions_t, _ first: Int32) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, first)
    }

    /// This executable, as the kernel knows it (what helper processes run).
    public static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

struct HelperProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
