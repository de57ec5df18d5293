import Foundation

/// The right to act as one dispatcher id: at most one daemon holds it at a time, for its whole
/// life. Two daemons with one id would lock, start and kill each other's work; the second one
/// to start is refused by `ContainerStore.acquireLease`, naming the holder.
///
///     let lease = try await store.acquireLease(for: "dispatcher-1", holder: .thisProcess)
///     guard lease.problem == nil else { return }   // lost: act on nothing until it is back
///     ...
///     await lease.release()
public protocol DispatcherLease: Sendable {
    /// Nil while the lease is held; otherwise why not (connection lost, taken over). The
    /// dispatcher acts on nothing while this is set.
    var problem: String? { get }

    /// Returns why, when the lease is gone for good: another daemon held the id while ours was
    /// lost, so what this process knows of the instance set is stale and it should stop. Nil
    /// when the waiting task is cancelled. One waiter at a time.
    func takenOver() async -> String?

    /// Gives the id back (at a graceful stop; a crash gives it back with the connection).
    func release() async
}
