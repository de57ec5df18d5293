import Foundation

/// The lifecycle of a container (see `Transition` for the table).
public enum ContainerState: String, Codable, Sendable, CaseIterable {
    case queued = "Queued"
    case locked = "Locked"
    case running = "Running"
    case complete = "Complete"
    case cancelled = "Cancelled"

    /// Complete and Cancelled never change again.
    public var isFinal: Bool { self == .complete || self == .cancelled }
}
