/// What may happen to a container: the input of the state machine. `Transition.apply` decides
/// whether an event is allowed in the container's state (the table is there).
public enum Event: Sendable, Hashable {
    case lock(by: String)
    case unlock(by: String, reason: String)
    case requeue(by: String, reason: String)
    /// The infrastructure ended the run (its node failed, it was preempted): back to the queue
    /// without counting an attempt, since the container did nothing wrong.
    case interrupted(by: String, reason: String)
    case start(by: String, instance: String)
    case complete(by: String, exitCode: Int, log: String?, cost: Double)
    case cancel(reason: String, log: String? = nil, cost: Double? = nil)
    case setPriority(Int)

    public var name: String {
        switch self {
        case .lock: "lock"
        case .unlock: "unlock"
        case .requeue: "requeue"
        case .interrupted: "interrupted"
        case .start: "start"
        case .complete: "complete"
        case .cancel: "cancel"
        case .setPriority: "priority"
        }
    }
}
