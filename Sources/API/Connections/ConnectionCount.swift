import Synchronization

/// The number of open API connections, shared by every event loop: decides whether one more is
/// admitted under `ConnectionLimits.maxConnections`.
///
///     guard count.open() else { refuse() }
///     channel.closeFuture.whenComplete { _ in count.close() }
final class ConnectionCount: Sendable {
    let maximum: Int
    private let current = Atomic<Int>(0)

    init(maximum: Int) { self.maximum = maximum }

    /// Counts a new connection; false when it is one too many (it is counted all the same, and
    /// `close()` must follow either way).
    func open() -> Bool { current.wrappingAdd(1, ordering: .relaxed).newValue <= maximum }

    func close() { current.wrappingSubtract(1, ordering: .relaxed) }

    var value: Int { current.load(ordering: .relaxed) }
}
