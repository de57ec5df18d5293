import Foundation
import WorkerPool

/// The shell lines the host runs on a worker, and how their answers read. The runner lives
/// under the instance root (`$CDD_INSTANCE_ROOT` on loopback, else /var/lib/cloud-dispatch);
/// `sudo -n` is used when the SSH user is not root and the root is the system one.
enum RunnerCommand {
    static let root = InitScript.rootExpression
    static let runnerPath = "\(root)/bin/cloud-dispatch-runner"
    private static let sudo = "S=; [ \"$(id -u)\" = 0 ] || [ -n \"$CDD_INSTANCE_ROOT\" ] || S='sudo -n'"

    static let readSecret = "\(sudo); exec $S cat \(root)/instance-secret"

    /// Prints "<sha256>  <path>" when the runner is installed.
    static let checksum = "\(sudo); $S sha256sum \(runnerPath) 2>/dev/null || true"

    /// Writes stdin to a temporary name and renames it into place: a half-copied runner is
    /// never executed (a running one keeps its old file).
    static let install = """
        \(sudo); R=\(runnerPath); $S mkdir -p "$(dirname "$R")" && \
        $S sh -c 'cat > "$1.new.$$" && chmod 0755 "$1.new.$$" && mv -f "$1.new.$$" "$1"' sh "$R"
        """

    static func runner(_ arguments: [String]) -> String {
        "\(sudo); exec $S \(runnerPath) " + arguments.map(quote).joined(separator: " ")
    }

    /// Single-quoted for sh, with embedded quotes closed and escaped.
    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// One line of `--list`.
    enum Entry: Equatable {
        case live(String)
        case done(String)
        case stale(String)
        case broken(String)
    }

    static func parseList(_ text: String) -> [Entry] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard let first = fields.first else { return nil }
            if first == "broken" { return .broken(fields.count > 1 ? fields[1] : "") }
            switch fields.count > 1 ? fields[1] : "" {
            case "": return .live(first)
            case "done": return .done(first)
            case "stale": return .stale(first)
            default: return nil  // a newer runner's state: ignored rather than misread
            }
        }
    }

    /// `--status UUID` as the runner prints it.
    struct Status: Decodable {
        var uuid: String
        var state: String
        var exitCode: Int?
        var signal: Int?
        var reason: String?
        var startedAt: Double?
        var finishedAt: Double?
        var logTail: String?

        enum CodingKeys: String, CodingKey {
            case uuid, state, signal, reason
            case exitCode = "exit_code", startedAt = "started_at", finishedAt = "finished_at", logTail = "log_tail"
        }
    }

    /// The spec `--detach` reads on stdin: what the container needs, nothing more.
    struct Spec: Encodable {
        var uuid: String
        var command: [String]
        var image: String?
        var environment: [String: String]
        var cwd: String?
        var maxRunTime: Int
        var gpuDevices: [Int]
        var runtime: String
        /// Left out when nil (the runner's own user).
        var runAs: String?

        enum CodingKeys: String, CodingKey {
            case uuid, command, image, environment, cwd, runtime
            case maxRunTime = "max_run_time", gpuDevices = "gpu_devices", runAs = "run_as"
        }

        init(_ launch: ContainerLaunch, runtime: String, runAs: String? = nil) {
            uuid = launch.uuid
            command = launch.command
            image = launch.image
            environment = launch.environment
            cwd = launch.cwd.isEmpty ? nil : launch.cwd
            maxRunTime = launch.maxRunTime
            gpuDevices = launch.gpuDevices
            self.runtime = runtime
            self.runAs = runAs
        }
    }
}
