import Foundation
import Queue

/// Membership on SQLite: the file admits one process, so there is one member, kept in memory
/// for the listing, and never a takeover.
extension SQLiteContainerStore: DispatcherMembership {
    public func register(_ member: DispatcherMember) async throws(QueueError) {
        var fresh = member
        fresh.heartbeatAt = Date()
        fresh.heartbeatAge = 0
        fresh.epoch = 1
        self.member.withLock { $0 = fresh }
    }

    public func heartbeat(_ id: String) async throws(QueueError) {
        member.withLock { if $0?.id == id { $0?.heartbeatAt = Date() } }
    }

    public func members() async throws(QueueError) -> [DispatcherMember] {
        guard var m = member.withLock({ $0 }) else { return [] }
        m.heartbeatAge = max(0, Date().timeIntervalSince(m.heartbeatAt))
        return [m]
    }

    public func claimTakeover(of id: String, by survivor: String, takeoverAfter: Double) async throws(QueueError) -> Bool { false }

    public func finishTakeover(of id: String) async throws(QueueError) {}

    public func forget(_ id: String, takeoverAfter: Double) async throws(QueueError) {
        throw .conflict("an SQLite queue has one dispatcher, its own daemon: there is nothing to forget")
    }
}
