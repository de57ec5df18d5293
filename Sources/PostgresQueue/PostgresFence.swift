import PostgresNIO
import Queue
import Synchronization

/// The lease epochs this process holds, by dispatcher id: what every lock and transition made
/// under one of those ids is fenced with. A lease records its epoch here when it is taken (and
/// taken back) and removes it when released; a lease lost to another daemon keeps its stale
/// epoch, so every write under that id is refused from then on.
final class LeaseEpochs: Sendable {
    private let held = Mutex<[String: Int64]>([:])

    func set(_ dispatcher: String, _ epoch: Int64) { held.withLock { $0[dispatcher] = epoch } }
    func remove(_ dispatcher: String) { _ = held.withLock { $0.removeValue(forKey: dispatcher) } }

    /// The fence for a write by `dispatcher`; nil when this process holds no lease on it (a
    /// client of the queue, or a test without a daemon).
    func fence(for dispatcher: String?) -> Fence? {
        guard let dispatcher, let epoch = held.withLock({ $0[dispatcher] }) else { return nil }
        return Fence(dispatcher: dispatcher, epoch: epoch)
    }
}

/// A write's claim to act as `dispatcher`: valid while the lease row still has `epoch`.
struct Fence: Sendable, Hashable {
    var dispatcher: String
    var epoch: Int64

    func refusal(current: Int64?) -> String {
        "dispatcher id \(dispatcher) acts with lease epoch \(epoch), but the queue says \(current.map(String.init) ?? "none"): "
            + "another daemon took this id over, so this one may not change its containers"
    }
}

extension PostgresQuery.StringInterpolation {
    /// The fencing clause, inside the statement that writes (no extra round trip): TRUE without a
    /// fence, else whether the lease on the fence's id still has its epoch.
    ///
    ///     UPDATE containers SET ... WHERE uuid = \(uuid) AND \(fence: fence) RETURNING uuid
    mutating func appendInterpolation(fence: Fence?) {
        guard let fence else { return appendLiteral("TRUE") }
        appendLiteral("EXISTS (SELECT 1 FROM dispatcher_leases WHERE dispatcher_id = ")
        appendInterpolation(fence.dispatcher)
        appendLiteral(" AND epoch = ")
        appendInterpolation(fence.epoch)
        appendLiteral(")")
    }
}

extension Event {
    /// The dispatcher id a dispatcher's event acts under (nil: anyone's, such as a cancel).
    var actingDispatcher: String? {
        switch self {
        case .lock(let by), .unlock(let by, _), .requeue(let by, _), .interrupted(let by, _), .start(let by, _),
            .complete(let by, _, _, _):
            by
        case .cancel, .setPriority: nil
        }
    }
}
