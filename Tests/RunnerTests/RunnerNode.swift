import Foundation
import TestSupport

/// One worker node for a test: the built runner with its own `--root`, and helpers that speak
/// its contract. `cleanup()` kills whatever is still live and removes the folder.
struct RunnerNode {
    static let binary = Harness.buildFolder + "/cloud-dispatch-runner"

    let root: String
    var environment: [String: String]?

    init(environment: [String: String]? = nil) {
        root = Harness.temporaryFolder()
        self.environment = environment
    }

    var stateFolder: String { root + "/runner" }

    /// Runs the runner with `arguments` after `--root`; `stdin` is fed from a file.
    @discardableResult
    func run(_ arguments: [String], stdin: Data? = nil, root explicitRoot: String? = nil) async throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let io = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: io) }
        _ = FileManager.default.createFile(atPath: io + "/in", contents: stdin ?? Data())
        let input = open(io + "/in", O_RDONLY | O_CLOEXEC)
        let outFD = open(io + "/out", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        let errFD = open(io + "/err", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        defer { for fd in [input, outFD, errFD] { close(fd) } }
        let process = try ChildProcess(RunnerNode.binary, ["--root", explicitRoot ?? root] + arguments, environment: environment,
                                       input: input, output: outFD, errors: errFD)
        let status = await process.exit()
        let out = (try? String(contentsOfFile: io + "/out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: io + "/err", encoding: .utf8)) ?? ""
        return (status, out, err)
    }

    static func spec(_ uuid: String, _ command: [String], _ extra: [String: Any] = [:]) -> Data {
        var spec: [String: Any] = ["uuid": uuid, "command": command]
        spec.merge(extra) { $1 }
        return try! JSONSerialization.data(withJSONObject: spec)
    }

    /// Detaches a container; returns the supervisor's pid (throws unless exit 0).
    @discardableResult
    func detach(_ uuid: String, _ command: [String], _ extra: [String: Any] = [:]) async throws -> Int32 {
        let result = try await run(["--detach"], stdin: RunnerNode.spec(uuid, command, extra))
        guard result.status == 0,
              let reply = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
              reply["uuid"] as? String == uuid, let pid = reply["pid"] as? Int
        else { throw HarnessError("detach \(uuid): \(result)") }
        return Int32(pid)
    }

    func list() async -> [String] {
        let out = (try? await run(["--list"]).stdout) ?? ""
        return out.split(separator: "\n").map(String.init)
    }

    func status(_ uuid: String) async throws -> [String: Any] {
        let result = try await run(["--status", uuid])
        guard result.status == 0, let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        else { throw HarnessError("status \(uuid): \(result)") }
        return json
    }

    /// Waits (bounded, generously: a loaded machine is slow) until `--list` shows `line`.
    func waitFor(_ line: String, seconds: Double = 30) async -> Bool {
        await Harness.eventually(seconds) { await list().contains(line) }
    }

    /// `--kill SIGNAL UUID` until it reports the end: one call polls only 1 s, which a loaded
    /// machine can outrun (the host repeats it the same way).
    func kill(_ signal: String, _ uuid: String, seconds: Double = 30) async -> Bool {
        await Harness.eventually(seconds) { (try? await run(["--kill", signal, uuid]).status) == 0 }
    }

    /// Kills what still runs and removes the root, in a task of its own (a `defer` cannot wait).
    func cleanup() {
        let node = self
        Task {
            for line in await node.list() where !line.contains(" ") && line != "broken" {
                _ = try? await node.run(["--kill", "KILL", line])
            }
            try? FileManager.default.removeItem(atPath: node.root)
        }
    }
}
