import Foundation
import PostgresNIO
@testable import PostgresQueue
import Queue
import SQLiteQueue
import TestSupport
import Testing

/// Dispatchers sharing one PostgreSQL: membership rows, the one-survivor takeover decision, and
/// the epoch every lock and transition under a dispatcher id is fenced with.
@Suite struct MembershipTests {
    let logger = StoreFixture.logger

    func member(_ id: String, pid: Int = 1) -> DispatcherMember {
        DispatcherMember(id: id, driver: "loopback", version: "test", host: "host-\(id)", pid: pid)
    }

    func twoStores() async throws -> (PostgresContainerStore, PostgresContainerStore) {
        let url = try await StoreFixture.freshPostgresDatabase()
        return (try await PostgresContainerStore.open(url: url, logger: logger), try await PostgresContainerStore.open(url: url, logger: logger))
    }

    @Test func membersRegisterBeatAndListWithTheirLeaseEpoch() async throws {
        let (a, b) = try await twoStores()
        let lease = try await a.acquireLease(for: "d1", holder: LeaseHolder(host: "host-d1", pid: 1))
        try await a.register(member("d1"))
        try await b.register(member("d2", pid: 2))
        try await a.heartbeat("d1")
        let listed = try await b.members()
        #expect(listed.map(\.id) == ["d1", "d2"])
        #expect(listed.map(\.epoch) == [1, 0], "d1 holds its lease once; d2 took none")
        #expect(listed.allSatisfy { $0.state(takeoverAfter: 60) == .active && $0.heartbeatAge < 60 })
        #expect(listed[1].pid == 2 && listed[1].driver == "loopback")
        await lease.release()
        await a.close()
        await b.close()
    }

    @Test func exactlyOneSurvivorClaimsADeadMember() async throws {
        let (a, b) = try await twoStores()
        try await a.register(member("dead"))
        // Not silent long enough: nobody claims it.
        #expect(try await a.claimTakeover(of: "dead", by: "s1", takeoverAfter: 3600) == false)
        // Two survivors race; the row decides.
        async let first = a.claimTakeover(of: "dead", by: "s1", takeoverAfter: 0)
        async let second = b.claimTakeover(of: "dead", by: "s2", takeoverAfter: 0)
        let claims = try await [first, second]
        #expect(claims.filter { $0 }.count == 1, "\(claims)")
        let winner = claims[0] ? "s1" : "s2"
        let dead = try #require(try await a.members().first { $0.id == "dead" })
        #expect(dead.state(takeoverAfter: 0) == .takenOver(by: winner))
        #expect(try await a.claimTakeover(of: "dead", by: "s3", takeoverAfter: 0) == false, "claimed once only")
        try await a.finishTakeover(of: "dead")
        #expect(try await a.members().first?.state(takeoverAfter: 0) == .drained(by: winner))
        await a.close()
        await b.close()
    }

    /// The survivor dies before it finished the set: another claims it again, once.
    @Test func aSetWhoseSurvivorDiedIsClaimedAgain() async throws {
        let (a, b) = try await twoStores()
        try await a.register(member("dead"))
        try await a.register(member("s1"))
        try await a.register(member("s2"))
        #expect(try await a.claimTakeover(of: "dead", by: "s1", takeoverAfter: 0))
        #expect(try await b.claimTakeover(of: "dead", by: "s2", takeoverAfter: 3600) == false, "s1 still beats")
        // s1 falls silent too.
        #expect(try await b.claimTakeover(of: "dead", by: "s2", takeoverAfter: 0))
        #expect(try await a.members().first { $0.id == "dead" }?.takenOverBy == "s2")
        try await b.heartbeat("s2")
        #expect(try await a.claimTakeover(of: "dead", by: "s3", takeoverAfter: 60) == false, "s2 beats: not claimable")
        await a.close()
        await b.close()
    }

    @Test func aTakenOverMemberCannotBeatOrRegisterAndIsToldWhoTookIt() async throws {
        let (a, b) = try await twoStores()
        try await a.register(member("dead"))
        #expect(try await b.claimTakeover(of: "dead", by: "survivor", takeoverAfter: 0))
        for attempt in ["heartbeat", "register"] {
            await #expect {
                if attempt == "heartbeat" { try await a.heartbeat("dead") } else { try await a.register(member("dead")) }
            } throws: { error in
                guard case .fenced(let message) = error as? QueueError else { return false }
                return message.contains("dispatcher id \"dead\" was taken over by dispatcher \"survivor\" at 20")
            }
        }
        // Forgetting is for drained ids only; then the id registers afresh.
        await #expect(throws: QueueError.self) { try await a.forget("dead", takeoverAfter: 0) }
        try await b.finishTakeover(of: "dead")
        try await a.forget("dead", takeoverAfter: 0)
        try await a.register(member("dead"))
        #expect(try await a.members().first?.state(takeoverAfter: 60) == .active)
        await a.close()
        await b.close()
    }

    @Test func anActiveMemberIsNotForgotten() async throws {
        let (a, b) = try await twoStores()
        try await a.register(member("d1"))
        await #expect(throws: QueueError.self) { try await b.forget("d1", takeoverAfter: 60) }
        await a.close()
        await b.close()
    }

    /// A daemon whose lease moved on (another took the id: the epoch was bumped) can neither lock
    /// nor change a container under that id; the refusal says why and nothing is written.
    @Test func writesUnderAStaleEpochAreRefused() async throws {
        let (a, admin) = try await twoStores()
        let lease = try await a.acquireLease(for: "d1", holder: LeaseHolder(host: "host-a", pid: 1))
        let made = try await a.submit([spec(), spec()])
        #expect(try await a.lock([made[0].uuid], by: "d1").count == 1, "the current epoch writes")
        _ = try await a.apply(.start(by: "d1", instance: "t i-1"), to: made[0].uuid)
        // What a survivor's acquisition of the lease does to the row.
        try await admin.client.query("UPDATE dispatcher_leases SET epoch = epoch + 1 WHERE dispatcher_id = 'd1'", logger: logger)
        let isFenced: @Sendable (any Error) -> Bool = { error in
            guard case .fenced(let message) = error as? QueueError else { return false }
            return message.contains("dispatcher id d1 acts with lease epoch 1, but the queue says 2")
        }
        await #expect(performing: { _ = try await a.apply(.complete(by: "d1", exitCode: 0, log: nil, cost: 0), to: made[0].uuid) }, throws: isFenced)
        await #expect(performing: { _ = try await a.lock([made[1].uuid], by: "d1") }, throws: isFenced)
        await #expect(performing: { _ = try await a.apply(.cancel(reason: "given up"), to: made[0].uuid) }, throws: isFenced)
        #expect(try await admin.get(made[0].uuid).state == .running, "the refused result was not written")
        #expect(try await admin.get(made[1].uuid).state == .queued, "the refused lock was not written")
        // Writes under ids this process holds no lease on are not fenced (API clients, other ids).
        _ = try await a.apply(.cancel(reason: "operator"), to: made[1].uuid)
        #expect(try await admin.apply(.cancel(reason: "operator"), to: made[0].uuid).state == .cancelled)
        await lease.release()
        await a.close()
        await admin.close()
    }

    /// The writes that are no transition are fenced too: a daemon whose id was taken over
    /// neither overwrites the survivor's scheduling statuses nor records a create intent (so it
    /// creates nothing in the set the survivor drains); the refusal says why.
    @Test func statusesAndIntentsUnderAStaleEpochAreRefused() async throws {
        let (a, admin) = try await twoStores()
        let lease = try await a.acquireLease(for: "d1", holder: LeaseHolder(host: "host-a", pid: 1))
        let made = try await a.submit([spec()])
        let status: @Sendable (PostgresContainerStore) async throws -> String? = { try await $0.get(made[0].uuid).runtimeStatus.schedulingStatus }
        try await a.setSchedulingStatus([made[0].uuid: "waiting for a small instance to boot"], by: "d1")
        #expect(try await status(admin) == "waiting for a small instance to boot", "the current epoch writes")
        let intent = CreateIntent(instanceSet: "d1", typeName: "small", count: 2, secret: nil, createdAt: Date())
        try await a.recordIntent(intent)
        try await admin.client.query("UPDATE dispatcher_leases SET epoch = epoch + 1 WHERE dispatcher_id = 'd1'", logger: logger)
        let isFenced: @Sendable (any Error) -> Bool = { error in
            guard case .fenced(let message) = error as? QueueError else { return false }
            return message.contains("dispatcher id d1 acts with lease epoch 1, but the queue says 2")
        }
        await #expect(performing: { try await a.setSchedulingStatus([made[0].uuid: "at max_instances (0)"], by: "d1") }, throws: isFenced)
        #expect(try await status(admin) == "waiting for a small instance to boot", "the refused status was not written")
        let second = CreateIntent(instanceSet: "d1", typeName: "small", count: 1, secret: nil, createdAt: Date())
        await #expect(performing: { try await a.recordIntent(second) }, throws: isFenced)
        #expect(try await admin.openIntents(instanceSet: "d1").map(\.token) == [intent.token], "the refused intent was not recorded")
        // Unfenced: another id, and settling (it only forgets a record; the cloud is not touched).
        try await a.setSchedulingStatus([made[0].uuid: "at max_instances (0)"], by: "d2")
        #expect(try await status(admin) == "at max_instances (0)")
        try await a.recordIntent(CreateIntent(instanceSet: "d2", typeName: "small", count: 1, secret: nil, createdAt: Date()))
        try await a.settleIntent(intent.token)
        #expect(try await admin.openIntents(instanceSet: "d1").isEmpty)
        await lease.release()
        await a.close()
        await admin.close()
    }

    /// Which members a survivor adopts: dead ones on its own driver; its own unfinished claim
    /// (resumed); a claim whose survivor is gone too. Never an active or drained one, one claimed
    /// by a live survivor, itself, or one on another driver or executor backend (listed through
    /// the survivor's driver, its set would look empty and be called drained while it bills).
    @Test func aSurvivorAdoptsDeadMembersOnItsOwnDriverOnly() {
        func m(_ id: String, driver: String = "ec2", age: Double = 0, by: String? = nil, drained: Bool = false) -> DispatcherMember {
            DispatcherMember(
                id: id, driver: driver, version: "test", host: "h", pid: 1, heartbeatAge: age, takenOverBy: by,
                drainedAt: drained ? Date() : nil)
        }
        let me = m("me")
        let members = [
            me, m("dead", age: 300), m("other-driver", driver: "gce", age: 300), m("executor", driver: "slurm", age: 300),
            m("alive", age: 10), m("mine", age: 300, by: "me"), m("done", age: 300, by: "me", drained: true),
            m("live-claim", age: 300, by: "alive"), m("gone-survivor", age: 300), m("orphan", age: 300, by: "gone-survivor"),
        ]
        let adoptions = Dictionary(uniqueKeysWithValues: members.map { member in
            (member.id, member.adoption(by: me, among: members, takeoverAfter: 120).map { "\($0)" } ?? "leave")
        })
        #expect(adoptions == [
            "me": "leave", "dead": "claim", "other-driver": "leave", "executor": "leave", "alive": "leave", "mine": "resume",
            "done": "leave", "live-claim": "leave", "gone-survivor": "claim", "orphan": "claim",
        ])
    }

    @Test func sqliteHasOneMemberAndNoTakeover() async throws {
        let folder = StoreFixture.temporaryFolder()
        let store = try SQLiteContainerStore.open(path: folder + "/queue.sqlite3")
        try await store.register(member("local"))
        try await store.heartbeat("local")
        let listed = try await store.members()
        #expect(listed.map(\.id) == ["local"] && listed[0].epoch == 1)
        #expect(try await store.claimTakeover(of: "local", by: "other", takeoverAfter: 0) == false)
        await store.close()
        try? FileManager.default.removeItem(atPath: folder)
    }
}
