import Foundation

/// Turns a validated spec into a new Queued container with a fresh uuid.
public enum ContainerFactory {
    public static func make(_ spec: ContainerSpec, now: Date) -> Container {
        Container(
            uuid: UUIDGenerator.shared.next(now: now), state: .queued, priority: spec.priority, command: spec.command,
            containerImage: spec.containerImage, environment: spec.environment, cwd: spec.cwd,
            runtimeConstraints: spec.runtimeConstraints, schedulingParameters: spec.schedulingParameters,
            lockedBy: nil, lockCount: 0, startedAt: nil, finishedAt: nil, exitCode: nil, runtimeStatus: RuntimeStatus(),
            log: nil, cost: 0, instance: nil, createdAt: now, modifiedAt: now, clientRequestID: spec.clientRequestID)
    }

    /// Checks every spec; throws all problems at once, each prefixed with its batch index.
    public static func validate(_ specs: [ContainerSpec]) throws(QueueError) {
        var problems: [FieldProblem] = []
        for (i, spec) in specs.enumerated() {
            for p in spec.problems() {
                problems.append(specs.count == 1 ? p : FieldProblem(field: "[\(i)].\(p.field)", rule: p.rule))
            }
        }
        if specs.isEmpty { problems.append(FieldProblem(field: "(body)", rule: "at least one container")) }
        if !problems.isEmpty { throw .validation(problems) }
    }

    /// The spec a stored container was submitted with, to compare a repeated request.
    public static func spec(of c: Container) -> ContainerSpec {
        ContainerSpec(
            command: c.command, containerImage: c.containerImage, environment: c.environment, cwd: c.cwd,
            priority: c.priority, runtimeConstraints: c.runtimeConstraints,
            schedulingParameters: c.schedulingParameters, clientRequestID: c.clientRequestID)
    }
}
