/// The order in which the scheduler serves containers: those already running, then Locked
/// before Queued, higher priority first, then first submitted. The pass and the operator's
/// queue view (`GET /v1/queue`) share it, so what an operator sees is what the pass does.
public enum QueueOrder {
    /// Whether `a` is served before `b` (both waiting).
    public static func waitingFirst(_ a: ContainerDemand, _ b: ContainerDemand) -> Bool {
        let (ra, rb) = (WaitingRank(a), WaitingRank(b))
        return ra != rb ? ra < rb : a.uuid < b.uuid
    }

    /// Waiting containers in `waitingFirst` order. Their ranks are sorted by position, not the
    /// containers themselves: a `ContainerDemand` is large, and moving 100,000 of them about
    /// (copied out twice per comparison) was 40% of a scheduling pass at that depth.
    static func sortedWaiting(_ containers: [ContainerDemand]) -> [ContainerDemand] {
        let ranks = containers.map(WaitingRank.init)
        let order = containers.indices.sorted { ranks[$0] != ranks[$1] ? ranks[$0] < ranks[$1] : containers[$0].uuid < containers[$1].uuid }
        return order.map { containers[$0] }
    }

    /// What the waiting order compares before the uuid: Locked before Queued, higher priority
    /// first, then first submitted.
    struct WaitingRank: Comparable {
        let queued: Bool
        let priority: Int
        let createdAt: Double

        init(_ c: ContainerDemand) {
            queued = c.state != .locked
            priority = c.priority
            createdAt = c.createdAt
        }

        static func < (a: Self, b: Self) -> Bool {
            if a.queued != b.queued { return !a.queued }
            if a.priority != b.priority { return a.priority > b.priority }
            return a.createdAt < b.createdAt
        }
    }

    /// Every container in the scheduler's order.
    public static func sorted(_ containers: [ContainerDemand]) -> [ContainerDemand] {
        let running = containers.filter { if case .running = $0.state { true } else { false } }
            .sorted { ($0.createdAt, $0.uuid) < ($1.createdAt, $1.uuid) }
        let waiting = sortedWaiting(containers.filter { if case .running = $0.state { false } else { true } })
        return running + waiting
    }
}
