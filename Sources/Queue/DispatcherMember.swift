import Foundation

/// One dispatcher sharing the store: who it is, what it manages, when it last said so, and
/// whether another took its instance set over. Several daemons on one PostgreSQL see each other
/// through these rows; a survivor adopts the set of one whose heartbeat stopped.
///
///     let members = try await store.members()
///     for m in members where m.state(now: Date(), takeoverAfter: 120) == .dead { ... }
public struct DispatcherMember: Sendable, Hashable, Codable {
    /// The dispatcher id, which is also its instance-set id.
    public var id: String
    public var driver: String
    public var version: String
    public var host: String
    public var pid: Int
    public var heartbeatAt: Date
    /// Seconds since the last heartbeat, by the store's clock (hosts' clocks may differ).
    public var heartbeatAge: Double
    /// The lease's epoch on this id: bumped by every daemon that takes the id, checked by every
    /// lock and transition made under it.
    public var epoch: Int64
    public var takenOverBy: String?
    public var takenOverAt: Date?
    /// When the survivor finished the adopted set (its last instance gone).
    public var drainedAt: Date?

    public init(
        id: String, driver: String, version: String, host: String, pid: Int, heartbeatAt: Date = Date(), heartbeatAge: Double = 0,
        epoch: Int64 = 0,
        takenOverBy: String? = nil, takenOverAt: Date? = nil, drainedAt: Date? = nil
    ) {
        self.id = id
        self.driver = driver
        self.version = version
        self.host = host
        self.pid = pid
        self.heartbeatAt = heartbeatAt
        self.heartbeatAge = heartbeatAge
        self.epoch = epoch
        self.takenOverBy = takenOverBy
        self.takenOverAt = takenOverAt
        self.drainedAt = drainedAt
    }

    public enum State: Sendable, Hashable, CustomStringConvertible {
        case active
        /// Silent past `takeover_after`, not yet adopted.
        case dead
        case takenOver(by: String)
        case drained(by: String)

        public var description: String {
            switch self {
            case .active: "active"
            case .dead: "dead"
            case .takenOver(let by): "taken over by \(by)"
            case .drained(let by): "drained by \(by)"
            }
        }
    }

    public func state(takeoverAfter: Double) -> State {
        if let by = takenOverBy { return drainedAt == nil ? .takenOver(by: by) : .drained(by: by) }
        return heartbeatAge > takeoverAfter ? .dead : .active
    }

    /// What a daemon started on a taken-over id prints before it refuses to act.
    public var fencedMessage: String? {
        guard let by = takenOverBy else { return nil }
        let when = takenOverAt.map { " at \(Timestamp.format($0))" } ?? ""
        return "dispatcher id \"\(id)\" was taken over by dispatcher \"\(by)\"\(when) after its heartbeat stopped"
            + (drainedAt == nil ? "; \(by) is finishing its containers and shutting its instances down" : "; its instance set was drained")
            + ". This daemon acts on nothing. To use the id again once drained: cloud-dispatch dispatchers --forget \(id)"
    }
}

extension DispatcherMember {
    /// What a survivor does with a member's set.
    public enum Adoption: Sendable, Hashable {
        /// Claim it (dead, or its survivor is itself gone before finishing it).
        case claim
        /// Carry on: the survivor claimed it and restarted before finishing it.
        case resume
    }

    /// What `survivor` does with this member's set, given every member: nil when it is not to be
    /// touched — active, finished, claimed by a live survivor, the survivor itself, or on another
    /// driver (or executor backend): a set is listed and drained through the survivor's own
    /// driver, and another driver's set would look empty.
    public func adoption(by survivor: DispatcherMember, among members: [DispatcherMember], takeoverAfter: Double) -> Adoption? {
        guard id != survivor.id, driver == survivor.driver else { return nil }
        switch state(takeoverAfter: takeoverAfter) {
        case .dead: return .claim
        case .takenOver(let by) where by == survivor.id: return .resume
        case .takenOver(let by):
            let claimerGone = members.first { $0.id == by }.map { $0.state(takeoverAfter: takeoverAfter) != .active } ?? false
            return claimerGone ? .claim : nil
        case .active, .drained: return nil
        }
    }
}

/// The store side of several dispatchers sharing one queue: membership rows, heartbeats and the
/// one-survivor takeover decision. PostgreSQL decides takeovers in a transaction; SQLite (one
/// process by construction) keeps one member and never takes over.
public protocol DispatcherMembership: Sendable {
    /// Registers `member` (or refreshes its row after a restart). Throws `fenced` when the id was
    /// taken over: its daemon must not act on the set.
    func register(_ member: DispatcherMember) async throws(QueueError)

    /// Refreshes the member's heartbeat; throws `fenced` once another took the id over.
    func heartbeat(_ id: String) async throws(QueueError)

    /// Every member, in id order, with its lease epoch.
    func members() async throws(QueueError) -> [DispatcherMember]

    /// Claims the dead member `id` for `survivor`, in one transaction: true only for the one
    /// caller that finds it still silent past `takeoverAfter` seconds and not yet claimed (or
    /// claimed by a survivor that is itself dead or taken over, and not yet drained).
    func claimTakeover(of id: String, by survivor: String, takeoverAfter: Double) async throws(QueueError) -> Bool

    /// Records that the survivor finished the adopted set.
    func finishTakeover(of id: String) async throws(QueueError)

    /// Drops a member row that is not active (an operator re-admitting a drained id).
    func forget(_ id: String, takeoverAfter: Double) async throws(QueueError)
}
