/// The container spec the host sends on `--detach`'s stdin, checked in full before anything
/// starts, so a bad spec is refused (exit 2) with the one problem named instead of failing
/// later inside the supervisor.
///
///     {"uuid": "c1", "command": ["sh", "-c", "exit 7"], "environment": {"A": "1"},
///      "cwd": null, "image": null, "max_run_time": 0, "gpu_devices": [], "runtime": "none",
///      "run_as": "nobody"}
///
/// Unknown keys are ignored; missing optional keys take their defaults.
struct Spec: Equatable, Sendable {
    enum Runtime: String, Sendable { case none, docker, podman, auto }

    var uuid: String
    var command: [String]
    var image: String?
    /// In document order, so `-e` arguments are stable.
    var environment: [(String, String)]
    var cwd: String?
    /// Seconds; 0 means no limit.
    var maxRunTime: Int
    var gpuDevices: [Int]
    var runtime: Runtime
    /// The user a plain process runs as (`RunAs`); nil: the runner's own.
    var runAs: String?

    static func == (a: Spec, b: Spec) -> Bool {
        a.uuid == b.uuid && a.command == b.command && a.image == b.image && a.cwd == b.cwd
            && a.maxRunTime == b.maxRunTime && a.gpuDevices == b.gpuDevices && a.runtime == b.runtime && a.runAs == b.runAs
            && a.environment.map { $0.0 } == b.environment.map { $0.0 }
            && a.environment.map { $0.1 } == b.environment.map { $0.1 }
    }

    struct Problem: Error, CustomStringConvertible { let description: String }

    init(parsing bytes: [UInt8]) throws(Problem) {
        let json: JSON
        do { json = try JSON.parse(bytes) } catch { throw Problem(description: "the spec is not valid JSON: \(error)") }
        guard case .object = json else { throw Problem(description: "the spec must be a JSON object") }

        guard let uuid = json["uuid"]?.string else { throw Problem(description: "\"uuid\" must be a string") }
        guard Paths.isValidUUID(uuid) else {
            throw Problem(description: "\"uuid\" must match [A-Za-z0-9._-]{1,64} (and not be \"broken\"), got \(JSON.string(uuid).text)")
        }
        self.uuid = uuid

        guard case .array(let items)? = json["command"] else { throw Problem(description: "\"command\" must be an array of strings") }
        command = try items.map { item throws(Problem) in
            guard let word = item.string else { throw Problem(description: "\"command\" must be an array of strings") }
            return try Spec.cString(word, "command")
        }
        guard !command.isEmpty else { throw Problem(description: "\"command\" must not be empty") }
        guard !command[0].isEmpty else { throw Problem(description: "\"command\"[0] must not be empty") }

        image = try Spec.optionalString(json, "image")
        if image?.isEmpty == true { image = nil }

        environment = []
        switch json["environment"] {
        case nil, .null?: break
        case .object(let members)?:
            for (key, value) in members {
                guard let text = value.string else { throw Problem(description: "\"environment\".\(key) must be a string") }
                guard !key.isEmpty, !key.utf8.contains(0x3D) else {
                    throw Problem(description: "\"environment\" key \(JSON.string(key).text) is not a variable name")
                }
                environment.append((try Spec.cString(key, "environment"), try Spec.cString(text, "environment")))
            }
        default: throw Problem(description: "\"environment\" must be an object of strings")
        }

        cwd = try Spec.optionalString(json, "cwd")
        if let cwd, !cwd.hasPrefix("/") { throw Problem(description: "\"cwd\" must be an absolute path, got \(JSON.string(cwd).text)") }

        switch json["max_run_time"] {
        case nil, .null?: maxRunTime = 0
        case let value?:
            guard let seconds = value.int, seconds >= 0 else {
                throw Problem(description: "\"max_run_time\" must be a whole number of seconds >= 0")
            }
            maxRunTime = seconds
        }

        switch json["gpu_devices"] {
        case nil, .null?: gpuDevices = []
        case .array(let items)?:
            gpuDevices = try items.map { item throws(Problem) in
                guard let n = item.int, n >= 0 else { throw Problem(description: "\"gpu_devices\" must be an array of device numbers") }
                return n
            }
        default: throw Problem(description: "\"gpu_devices\" must be an array of device numbers")
        }

        switch json["runtime"] {
        case nil, .null?: runtime = .none
        case .string(let name)?:
            guard let value = Runtime(rawValue: name) else {
                throw Problem(description: "\"runtime\" must be one of none, docker, podman, auto; got \(JSON.string(name).text)")
            }
            runtime = value
        default: throw Problem(description: "\"runtime\" must be a string")
        }

        runAs = try Spec.optionalString(json, "run_as")
        if let runAs, !RunAs.isValid(runAs) {
            throw Problem(description: "\"run_as\" must be a user name or uid[:gid], got \(JSON.string(runAs).text)")
        }
    }

    private static func optionalString(_ json: JSON, _ key: String) throws(Problem) -> String? {
        switch json[key] {
        case nil, .null?: return nil
        case .string(let s)?: return try cString(s, key)
        default: throw Problem(description: "\"\(key)\" must be a string or null")
        }
    }

    /// Strings end up as C strings (argv, environment, paths): no NUL inside.
    private static func cString(_ s: String, _ key: String) throws(Problem) -> String {
        guard !s.utf8.contains(0) else { throw Problem(description: "\"\(key)\" contains a NUL character") }
        return s
    }
}
