/// Why a queue operation was refused. Every case says what to do about it.
public enum QueueError: Error, Sendable, Hashable, CustomStringConvertible {
    case notFound(uuid: String)
    case invalidTransition(uuid: String, from: ContainerState, event: String)
    case notLockHolder(uuid: String, holder: String?, caller: String)
    case validation([FieldProblem])
    /// A client request id was reused with a different spec.
    case conflict(String)
    /// The store cannot be reached or used.
    case unavailable(String)
    /// A write under a dispatcher id this process no longer holds: another daemon took the id
    /// over (its lease epoch moved on), so this one must not act on its containers.
    case fenced(String)

    public var description: String {
        switch self {
        case .notFound(let uuid):
            "no container \(uuid)"
        case .invalidTransition(let uuid, let from, let event):
            "container \(uuid) is \(from.rawValue): \(event) is not allowed"
        case .notLockHolder(let uuid, let holder, let caller):
            "container \(uuid) is locked by \(holder ?? "nobody"), not \(caller)"
        case .validation(let problems):
            problems.map(\.description).joined(separator: "; ")
        case .conflict(let message):
            message
        case .unavailable(let message):
            "queue store unavailable: \(message)"
        case .fenced(let message):
            "fenced: \(message)"
        }
    }
}
