/// The order in which the scheduler serves containers: those already running, then Locked
/// before Queued, higher priority first, then first submitted. The pass and the operator's
/// queue view (`GET /v1/queue`) share it, so what an operator sees is what the pass does.
public enum QueueOrder {
    /// Whether `a` is served before `b` (both waiting).
    public static func waitingFirst(_ a: ContainerDemand, _ b: ContainerDemand) -> Bool {
        let la = a.state == .locked ? 0 : 1, lb = b.state == .locked ? 0 : 1
        if la != lb { return la < lb }
        if a.priority != b.priority { return a.priority > b.priority }
        if a.createdAt != b.createdAt { return a.createdAt < b.createdAt }
        return a.uuid < b.uuid
    }

    /// Every container in the scheduler's order.
    public static func sorted(_ containers: [ContainerDemand]) -> [ContainerDemand] {
        let running = containers.filter { if case .running = $0.state { true } else { false } }
            .sorted { ($0.createdAt, $0.uuid) < ($1.createdAt, $1.uuid) }
        let waiting = containers.filter { if case .running = $0.state { false } else { true } }.sorted(by: waitingFirst)
        return running + waiting
    }
}
