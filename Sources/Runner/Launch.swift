/// How a spec becomes a process on this node: the argv, the environment to add, the folder
/// to start in, which container runtime (if any) runs it, and for a plain process the account
/// it runs as (`run_as`). A pure decision, so it is unit-tested without starting anything.
///
///     Launch.plan(spec, stateFolder: "/var/lib/cloud-dispatch/runner", find: System.findOnPath)
///     // image + docker → ["/usr/bin/docker", "run", "--rm", "--name", "cdd-c1", "--init", …, "IMAGE", "cmd"]
enum Launch: Equatable, Sendable {
    case run(Command)
    /// The container cannot start here; it ends at once with this reason and no exit code.
    case refuse(String)

    struct Command: Equatable, Sendable {
        var argv: [String]
        /// Added to (and overriding) the runner's own environment.
        var environment: [String]
        /// Where the process starts (checked: a missing folder ends the container).
        var cwd: String
        /// "docker" or "podman", nil for a plain process.
        var runtime: String?
        /// The account a plain process runs as; nil: the runner's own.
        var account: RunAs.Account? = nil
    }

    /// `user` resolves `run_as`. It applies to plain processes only: docker and podman need
    /// the runner's rights to reach their daemon, and their containers do not see this
    /// node's files anyway. A plain process under `run_as` starts in `/` (the state folder
    /// is closed to it) with the account's HOME, USER and LOGNAME.
    static func plan(
        _ spec: Spec, stateFolder: String, find: (String) -> String?,
        user: (String) -> Result<RunAs.Account, RunAs.Problem> = { RunAs.resolve($0) }
    ) -> Launch {
        guard let image = spec.image, spec.runtime != .none else {
            let environment = spec.environment.map { "\($0)=\($1)" }
            guard let name = spec.runAs else {
                return .run(Command(argv: spec.command, environment: environment, cwd: spec.cwd ?? stateFolder, runtime: nil))
            }
            switch user(name) {
            case .failure(let problem): return .refuse(problem.description)
            case .success(let account):
                return .run(
                    Command(
                        argv: spec.command, environment: account.environment + environment, cwd: spec.cwd ?? "/",
                        runtime: nil, account: account))
            }
        }
        let name: String
        let path: String
        switch spec.runtime {
        case .auto:
            if let docker = find("docker") {
                (name, path) = ("docker", docker)
            } else if let podman = find("podman") {
                (name, path) = ("podman", podman)
            } else {
                return .refuse("no container runtime (docker or podman) on this node")
            }
        default:
            name = spec.runtime.rawValue
            guard let found = find(name) else { return .refuse("no container runtime \(name) on this node") }
            path = found
        }
        var argv = [path, "run", "--rm", "--name", containerName(spec.uuid), "--init"]
        for (key, value) in spec.environment { argv += ["-e", "\(key)=\(value)"] }
        if let cwd = spec.cwd { argv += ["-w", cwd] }
        if name == "docker", !spec.gpuDevices.isEmpty {
            // The quotes are part of the value: docker splits --gpus on commas otherwise.
            argv += ["--gpus", "\"device=\(spec.gpuDevices.map(String.init).joined(separator: ","))\""]
        }
        argv.append(image)
        argv += spec.command
        return .run(Command(argv: argv, environment: [], cwd: stateFolder, runtime: name))
    }

    /// The runtime's name for the container, so `--kill` can reach it by name.
    static func containerName(_ uuid: String) -> String { "cdd-\(uuid)" }
}
