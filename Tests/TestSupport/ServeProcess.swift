import APIClient
import Foundation

/// A `cloud-dispatch serve` subprocess with the dispatcher on, for the driver suites' runs of the
/// whole daemon on their peer (moto, the fake GCE and ARM servers). A watchdog shell kills it if
/// this test process dies first, so a crashed run leaves no daemon creating instances behind.
public final class ServeProcess {
    public let process: ChildProcess
    let watchdog: ChildProcess
    private var reportedPort: Int?
    /// Reported by the daemon, which listens on port 0 (0 until its "listening" log line).
    public var port: Int {
        if reportedPort == nil { reportedPort = Harness.listeningPort(inLog: log) }
        return reportedPort ?? 0
    }
    public let stateDir: String
    public let logPath: String

    public var url: String { "http://127.0.0.1:\(port)" }

    public init(config: String, stateDir: String) throws {
        self.stateDir = stateDir
        logPath = stateDir + ".serve.log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { close(log) }
        process = try ChildProcess(Harness.cloudDispatch, ["serve", "--config", config, "--listen", "127.0.0.1:0", "--state-dir", stateDir,
                                                           "--log-level", "debug"], output: log, errors: log)
        let pid = process.processIdentifier
        watchdog = try ChildProcess("/bin/sh", ["-c", "while kill -0 \(getpid()) 2>/dev/null && kill -0 \(pid) 2>/dev/null; do sleep 1; done; "
                                                + "kill \(pid) 2>/dev/null"])
        let watchdog = watchdog
        Task { await watchdog.exit() }  // reaped when it ends, a second after the daemon
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until /_health answers (or the process died).
    public func ready() async -> Bool {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if !process.isRunning { return false }
            if port > 0, let (status, _) = try? await APIClient(server: URL(string: url)!, token: nil).raw("GET", "/_health"), status == 200 {
                return true
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    public func client() throws -> APIClient {
        let token = try String(contentsOfFile: stateDir + "/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return APIClient(server: URL(string: url)!, token: token)
    }

    /// SIGTERM, then the exit status; SIGKILL if it has not exited after 20 s.
    @discardableResult
    public func stop() async -> Int32 {
        await process.stop()
    }

    /// SIGTERM without waiting, for a `defer` (which cannot wait): the exit is awaited, and the
    /// process reaped, in a task of its own.
    public func stopWithoutWaiting() {
        let process = process
        Task { await process.stop() }
    }
}
