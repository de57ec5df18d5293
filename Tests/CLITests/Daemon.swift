import APIClient
import Foundation
import TestSupport

/// A `cloud-dispatch serve` process for tests of the CLI and the daemon. It listens on port 0
/// and the test learns the port from its "listening" log line, so no other process can take
/// the port in between; `ready()` waits for that line.
final class Daemon {
    let process: ChildProcess
    private var reportedPort: Int?
    /// The daemon's port once it has reported it (0 before).
    var port: Int {
        if reportedPort == nil { reportedPort = Harness.listeningPort(inLog: log) }
        return reportedPort ?? 0
    }
    let stateDir: String
    let logPath: String

    var url: String { "http://127.0.0.1:\(port)" }
    var tokenFile: String { stateDir + "/admin.token" }
    var serverArguments: [String] { ["--server", url, "--token-file", tokenFile] }

    /// Without `dispatch`, the daemon serves the queue only (`--no-dispatch`): containers stay
    /// where the test puts them.
    init(stateDir: String, extra: [String] = [], dispatch: Bool = false, environment: [String: String] = [:]) throws {
        self.stateDir = stateDir
        logPath = stateDir + ".serve.log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { close(log) }
        let arguments = ["serve", "--listen", "127.0.0.1:0", "--state-dir", stateDir] + extra + (dispatch ? [] : ["--no-dispatch"])
        process = try ChildProcess(Harness.cloudDispatch, arguments,
                                   environment: environment.isEmpty ? nil : ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
                                   output: log, errors: log)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until the daemon has said where it listens and /_health answers (or it died).
    func ready() async -> Bool {
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

    func client() throws -> APIClient {
        let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return APIClient(server: URL(string: url)!, token: token)
    }

    /// The daemon dies at once (SIGKILL): no cleanup of any kind.
    func crash() async {
        await process.stop(SIGKILL)
    }

    /// SIGTERM, then the exit status (SIGKILL after 20 s).
    func stop() async -> Int32 {
        await process.stop()
    }

    /// SIGTERM without waiting, for a `defer` or a `deinit` (which cannot wait): the exit is
    /// awaited, the process reaped, and then `cleanup` run, in a task of its own.
    func stopWithoutWaiting(then cleanup: @escaping @Sendable () -> Void = {}) {
        let process = process
        Task {
            await process.stop()
            cleanup()
        }
    }

    /// Kills the sshd of every loopback instance under `stateDir` (whatever a failed test left).
    static func killInstanceSSHDs(of stateDir: String) {
        for pid in Harness.processes(mentioning: stateDir + "/loopback") where Harness.commandLine(pid).hasPrefix("sshd") {
            kill(pid, SIGKILL)
        }
    }

    /// Runs `cloud-dispatch ARGS --server ... --token-file ...`.
    func cli(_ arguments: [String]) async throws -> (status: Int32, output: String, stdout: String) {
        var args = arguments
        let split = args.firstIndex(of: "--") ?? args.endIndex
        args.insert(contentsOf: serverArguments, at: split)
        return try await Harness.run(Harness.cloudDispatch, args)
    }
}
