import Foundation

/// Settings common to every store.
public struct QueuePolicy: Sendable, Hashable {
    /// Unlocks and requeues allowed before a container is cancelled.
    public var maxDispatchAttempts: Int

    public init(maxDispatchAttempts: Int = 5) {
        self.maxDispatchAttempts = max(1, maxDispatchAttempts)
    }
}
