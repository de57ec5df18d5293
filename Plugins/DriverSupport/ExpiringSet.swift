import Foundation
import Synchronization

/// Strings remembered for a bounded time, then forgotten: what a driver keeps of the
/// idempotency tokens (or the instances) it has seen spent, so the memory stays bounded however
/// long the process lives. [thread-safe]
///
///     let spent = ExpiringSet(lifetime: 86_400)
///     spent.insert("tok-1"); spent.contains("tok-1")   // true for a day
public final class ExpiringSet: Sendable {
    /// Seconds a member is kept.
    public let lifetime: TimeInterval
    private let now: @Sendable () -> Date
    private let state = Mutex(Members())

    /// Members by when they were last inserted, and the insertions in time order, so expiry
    /// drops from the front instead of scanning every member.
    private struct Members {
        var at: [String: Date] = [:]
        var order: [(member: String, at: Date)] = []
        var start = 0

        mutating func forget(before cutoff: Date) {
            while start < order.count, order[start].at <= cutoff {
                let (member, inserted) = order[start]
                if at[member] == inserted { at[member] = nil }  // not when inserted again since
                start += 1
            }
            if start > 1024 && start * 2 > order.count {
                order.removeFirst(start)
                start = 0
            }
        }
    }

    public init(lifetime: TimeInterval = 86_400, now: @escaping @Sendable () -> Date = { Date() }) {
        self.lifetime = lifetime
        self.now = now
    }

    public func insert(_ member: String) {
        let time = now()
        state.withLock { s in
            s.forget(before: time.addingTimeInterval(-lifetime))
            s.at[member] = time
            s.order.append((member, time))
        }
    }

    public func contains(_ member: String) -> Bool {
        let time = now()
        return state.withLock { s in
            s.forget(before: time.addingTimeInterval(-lifetime))
            return s.at[member] != nil
        }
    }

    /// Members still remembered.
    public var count: Int {
        let time = now()
        return state.withLock { s in
            s.forget(before: time.addingTimeInterval(-lifetime))
            return s.at.count
        }
    }
}
