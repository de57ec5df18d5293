import Foundation

/// Which containers `list` returns.
public struct ContainerQuery: Sendable, Hashable {
    public var states: Set<ContainerState>
    public var minPriority: Int?
    public var maxPriority: Int?
    /// Continue after this uuid (the previous page's `next`).
    public var after: String?
    public var limit: Int

    public static let maxLimit = 1000

    public init(
        states: Set<ContainerState> = [], minPriority: Int? = nil, maxPriority: Int? = nil,
        after: String? = nil, limit: Int = 100
    ) {
        self.states = states
        self.minPriority = minPriority
        self.maxPriority = maxPriority
        self.after = after
        self.limit = max(1, min(limit, Self.maxLimit))
    }
}
