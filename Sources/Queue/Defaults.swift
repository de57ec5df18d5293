/// Decoding with defaults: a submitter may leave out any member that has one.

extension GPURequirement {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            count: try c.decodeIfPresent(Int.self, forKey: .count) ?? 0,
            stack: try c.decodeIfPresent(String.self, forKey: .stack) ?? "",
            vram: try c.decodeIfPresent(Int64.self, forKey: .vram) ?? 0)
    }

    enum CodingKeys: String, CodingKey { case count, stack, vram }
}

extension RuntimeConstraints {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RuntimeConstraints()
        self.init(
            vcpus: try c.decodeIfPresent(Int.self, forKey: .vcpus) ?? defaults.vcpus,
            ram: try c.decodeIfPresent(Int64.self, forKey: .ram) ?? defaults.ram,
            scratch: try c.decodeIfPresent(Int64.self, forKey: .scratch) ?? defaults.scratch,
            gpu: try c.decodeIfPresent(GPURequirement.self, forKey: .gpu) ?? defaults.gpu)
    }

    enum CodingKeys: String, CodingKey { case vcpus, ram, scratch, gpu }
}

extension SchedulingParameters {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            preemptible: try c.decodeIfPresent(Bool.self, forKey: .preemptible) ?? false,
            maxRunTime: try c.decodeIfPresent(Int.self, forKey: .maxRunTime) ?? 0,
            instanceTypes: try c.decodeIfPresent([String].self, forKey: .instanceTypes) ?? [])
    }
}

extension ContainerSpec {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            command: try c.decode([String].self, forKey: .command),
            containerImage: try c.decodeIfPresent(String.self, forKey: .containerImage),
            environment: try c.decodeIfPresent([String: String].self, forKey: .environment) ?? [:],
            cwd: try c.decodeIfPresent(String.self, forKey: .cwd) ?? "/",
            priority: try c.decodeIfPresent(Int.self, forKey: .priority) ?? 1,
            runtimeConstraints: try c.decodeIfPresent(RuntimeConstraints.self, forKey: .runtimeConstraints) ?? RuntimeConstraints(),
            schedulingParameters: try c.decodeIfPresent(SchedulingParameters.self, forKey: .schedulingParameters) ?? SchedulingParameters(),
            clientRequestID: try c.decodeIfPresent(String.self, forKey: .clientRequestID))
    }
}
