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

/// Who holds a lease, for the refusal a second daemon prints.
public struct LeaseHolder: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var pid: Int
    public var since: Date?

    public init(host: String, pid: Int, since: Date? = nil) {
        self.host = host
        self.pid = pid
        self.since = since
    }

    public static var thisProcess: LeaseHolder {
        LeaseHolder(host: ProcessInfo.processInfo.hostName, pid: Int(getpid()))
    }

    public var description: String {
        "cloud-dispatch pid \(pid) on \(host)" + (since.map { " since \(Timestamp.format($0))" } ?? "")
    }
}

/// A lease that cannot be lost: the store itself already admits one process (SQLite's file lock).
public struct ExclusiveStoreLease: DispatcherLease {
    public init() {}
    public var problem: String? { nil }
    public func takenOver() async -> String? {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        return nil
    }
    public func release() async {}
}
