/// How a spec becomes a process on this node: the argv, the environment to add, the folder
/// to start in, and which container runtime (if any) runs it. A pure decision, so it is
/// unit-tested without starting anything.
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
    }

    static func plan(_ spec: Spec, stateFolder: String, find: (String) -> String?) -> Launch {
        guard let image = spec.image, spec.runtime != .none else {
            return .run(Command(argv: spec.command, environment: spec.environment.map { "\($0)=\($1)" },
                                cwd: spec.cwd ?? stateFolder, runtime: nil))
        }
        let name: String
        let path: String
        switch spec.runtime {
        case .auto:
            if let docker = find("docker") { (name, path) = ("docker", docker) }
            else if let podman = find("podman") { (name, path) = ("podman", podman) }
            else { return .refuse("no container runtime (docker or podman) on this node") }
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
