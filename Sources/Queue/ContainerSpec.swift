import Foundation

/// What a submitter asks to run: the writable part of a container record. Checked by
/// `validate()` before anything is stored.
public struct ContainerSpec: Codable, Sendable, Hashable {
    public var command: [String]
    public var containerImage: String?
    public var environment: [String: String]
    public var cwd: String
    public var priority: Int
    public var runtimeConstraints: RuntimeConstraints
    public var schedulingParameters: SchedulingParameters
    public var clientRequestID: String?

    public init(
        command: [String], containerImage: String? = nil, environment: [String: String] = [:], cwd: String = "/",
        priority: Int = 1, runtimeConstraints: RuntimeConstraints = RuntimeConstraints(),
        schedulingParameters: SchedulingParameters = SchedulingParameters(), clientRequestID: String? = nil
    ) {
        self.command = command
        self.containerImage = containerImage
        self.environment = environment
        self.cwd = cwd
        self.priority = priority
        self.runtimeConstraints = runtimeConstraints
        self.schedulingParameters = schedulingParameters
        self.clientRequestID = clientRequestID
    }

    enum CodingKeys: String, CodingKey {
        case command, environment, cwd, priority
        case containerImage = "container_image"
        case runtimeConstraints = "runtime_constraints"
        case schedulingParameters = "scheduling_parameters"
        case clientRequestID = "client_request_id"
    }

    /// Limits that keep one submission from harming the queue.
    public enum Limits {
        public static let maxPriority = 1000
        public static let maxArguments = 4096
        public static let maxCommandBytes = 256 << 10
        public static let maxEnvironment = 1024
        public static let maxVCPUs = 1024
        public static let maxRAM: Int64 = 64 << 40
        public static let maxScratch: Int64 = 1 << 50
        public static let maxVRAM: Int64 = 1 << 40
        public static let maxGPUs = 64
        public static let maxRunTime = 366 * 24 * 3600
    }

    /// Every rule this spec breaks, each naming its field; empty when valid.
    public func problems() -> [FieldProblem] {
        var found: [FieldProblem] = []
        func fail(_ field: String, _ rule: String) { found.append(FieldProblem(field: field, rule: rule)) }
        if command.isEmpty { fail("command", "must hold at least the program to run") }
        if command.count > Limits.maxArguments { fail("command", "at most \(Limits.maxArguments) arguments") }
        if command.reduce(0, { $0 + $1.utf8.count }) > Limits.maxCommandBytes { fail("command", "at most \(Limits.maxCommandBytes) bytes in all") }
        if let first = command.first, first.isEmpty { fail("command[0]", "must not be empty") }
        for (i, arg) in command.enumerated() where arg.contains("\0") { fail("command[\(i)]", "must not contain NUL") }
        if let image = containerImage, image.isEmpty || image.utf8.count > 1024 || image.contains(where: \.isWhitespace) {
            fail("container_image", "1 to 1024 characters without spaces")
        }
        if environment.count > Limits.maxEnvironment { fail("environment", "at most \(Limits.maxEnvironment) variables") }
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) {
            if !Self.isVariableName(key) { fail("environment.\(key)", "names must match [A-Za-z_][A-Za-z0-9_]*") }
            if value.contains("\0") { fail("environment.\(key)", "must not contain NUL") }
        }
        if !cwd.hasPrefix("/") || cwd.contains("\0") { fail("cwd", "must be an absolute path") }
        if !(0...Limits.maxPriority).contains(priority) { fail("priority", "must be from 0 to \(Limits.maxPriority)") }
        let rc = runtimeConstraints
        if !(1...Limits.maxVCPUs).contains(rc.vcpus) { fail("runtime_constraints.vcpus", "must be from 1 to \(Limits.maxVCPUs)") }
        if !((1 << 20)...Limits.maxRAM).contains(rc.ram) { fail("runtime_constraints.ram", "must be from 1 MiB to 64 TiB (in bytes)") }
        if !(0...Limits.maxScratch).contains(rc.scratch) { fail("runtime_constraints.scratch", "must be from 0 to 1 PiB (in bytes)") }
        if !(0...Limits.maxGPUs).contains(rc.gpu.count) { fail("runtime_constraints.gpu.count", "must be from 0 to \(Limits.maxGPUs)") }
        if rc.gpu.count > 0 && !["cuda", "rocm"].contains(rc.gpu.stack) {
            fail("runtime_constraints.gpu.stack", "must be cuda or rocm when GPUs are asked for")
        }
        if !(0...Limits.maxVRAM).contains(rc.gpu.vram) { fail("runtime_constraints.gpu.vram", "must be from 0 to 1 TiB (in bytes)") }
        let sp = schedulingParameters
        if !(0...Limits.maxRunTime).contains(sp.maxRunTime) {
            fail("scheduling_parameters.max_run_time", "must be from 0 (no limit) to \(Limits.maxRunTime) seconds")
        }
        if sp.instanceTypes.contains(where: \.isEmpty) { fail("scheduling_parameters.instance_types", "names must not be empty") }
        if let id = clientRequestID, !Self.isToken(id) { fail("client_request_id", "1 to 64 characters of [A-Za-z0-9._-]") }
        return found
    }

    static func isVariableName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || isLetter(first) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || isLetter($0) || ("0"..."9").contains($0) }
    }

    static func isToken(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count)
            && s.unicodeScalars.allSatisfy { isLetter($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) }
    }

    private static func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
}
