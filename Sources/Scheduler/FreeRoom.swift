/// The room on ready workers that a scheduling pass left free, for containers that arrive
/// before the next pass. No container the pass saw can use any of it: each one was tried
/// against the ready workers while their room was at least what is left now (room only shrinks
/// during a pass). So a newcomer placed here takes nothing from anyone who waits, and does not
/// wait itself for a pass over a deep queue, which may take a second at 100,000 containers.
///
///     var (plan, room) = SchedulingPass.planAndRoom(containers: demands, workers: workers, …)
///     let starts = room.place([newcomer])    // [] when no ready worker has room for it
public struct FreeRoom: Sendable {
    private var pass: PassState

    init(_ pass: PassState) { self.pass = pass }

    /// Room nowhere (before any pass).
    public init() {
        pass = PassState(eligibility: Eligibility(types: []), limits: Limits(), backoff: Backoff(), now: 0)
    }

    /// Queued containers, in the scheduler's order, each on a ready worker with room if one has
    /// it, chosen as the pass chooses (`takeRoom`); the room they take is taken here. Each start
    /// needs a lock first. Those that fit nowhere ready are left to the next pass.
    public mutating func place(_ arrivals: [ContainerDemand]) -> [Plan.Start] {
        var starts: [Plan.Start] = []
        for c in QueueOrder.sortedWaiting(arrivals.filter { $0.state == .queued && $0.priority > 0 }) {
            let shape = pass.shapeOf(c)
            guard case .eligible(let types) = pass.shapes[shape].answer, !pass.refusedEverywhere(types) else { continue }
            if let start = pass.startOnReady(c, types: types) { starts.append(start) }
        }
        return starts
    }

    /// Nothing more goes to `workers`: something was placed there that this room does not know.
    public mutating func close(_ workers: Set<String>) {
        for id in workers {
            if let i = pass.slotIndex[id] { pass.slots[i].free = .zero }
        }
    }
}
