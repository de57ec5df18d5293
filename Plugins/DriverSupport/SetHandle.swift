import Synchronization

/// What the host holds for an open instance set. It stays a valid pointer after close_set (a
/// few bytes kept for the life of the process): close releases the set itself, and a later
/// call answers `invalid` instead of touching freed memory; a second close does nothing.
public final class SetHandle: Sendable {
    public let setID: String
    private let state: Mutex<(any DriverInstanceSet)?>

    public init(_ set: any DriverInstanceSet) {
        setID = set.setID
        state = Mutex(set)
    }

    public func close() { state.withLock { $0 = nil } }

    /// The open set (a call in flight keeps it alive even if close runs meanwhile).
    public func set() throws(DriverError) -> any DriverInstanceSet {
        guard let set = state.withLock({ $0 }) else { throw .invalid("instance set \(setID) is closed") }
        return set
    }
}
