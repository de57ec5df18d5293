import Foundation
import PostgresNIO
@testable import PostgresQueue
import Queue
import TestSupport
import Testing

/// One dispatcher id, one daemon: the lease on PostgreSQL, with stores opened as two daemons
/// would open them.
@Suite struct PostgresLeaseTests {
    let alice = LeaseHolder(host: "host-a", pid: 111)
    let bob = LeaseHolder(host: "host-b", pid: 222)

    func twoStores() async throws -> (PostgresContainerStore, PostgresContainerStore) {
        let url = try await StoreFixture.freshPostgresDatabase()
        return (try await PostgresContainerStore.open(url: url, logger: StoreFixture.logger),
                try await PostgresContainerStore.open(url: url, logger: StoreFixture.logger))
    }

    @Test func aSecondHolderIsRefusedNamingTheFirstUntilItLetsGo() async throws {
        let (a, b) = try await twoStores()
        let held = try await a.acquireLease(for: "d1", holder: alice)
        #expect(held.problem == nil)
        await #expect { _ = try await b.acquireLease(for: "d1", holder: bob) } throws: { error in
            guard case .conflict(let message) = error as? QueueError else { return false }
            return message.hasPrefix("dispatcher id \"d1\" is in use by cloud-dispatch pid 111 on host-a since 20")
                && message.hasSuffix("stop that daemon, or give this one another dispatcher_id")
        }
        let other = try await b.acquireLease(for: "d2", holder: bob)  // another id is another lease
        await held.release()
        let taken = try await b.acquireLease(for: "d1", holder: bob)
        #expect(taken.problem == nil)
        for lease in [other, taken] { await lease.release() }
        await a.close()
        await b.close()
    }

    @Test func aLostSessionStopsDispatchingUntilTheLeaseIsHeldAgain() async throws {
        let (a, admin) = try await twoStores()
        let lease = try #require(try await a.acquireLease(for: "d1", holder: alice) as? PostgresLease)
        #expect(lease.epoch == 1)
        // Hold the lease table so the lease cannot be taken back until the test says so.
        try await admin.client.withTransaction(logger: StoreFixture.logger) { db in
            try await db.query("LOCK TABLE dispatcher_leases IN ACCESS EXCLUSIVE MODE", logger: StoreFixture.logger)
            try await Self.terminateLeaseSession(db, "d1")
            #expect(await Harness.eventually(60) { lease.problem != nil }, "the lost session was not noticed")
            #expect(lease.problem?.contains("lost") == true, "\(lease.problem ?? "")")
        }
        #expect(await Harness.eventually(60) { lease.problem == nil }, "the lease was not taken back: \(lease.problem ?? "")")
        #expect(lease.epoch == 2)
        await lease.release()
        await a.close()
        await admin.close()
    }

    @Test func aLeaseAnotherDaemonHeldWhileItWasLostIsTakenOver() async throws {
        let (a, admin) = try await twoStores()
        let lease = try #require(try await a.acquireLease(for: "d1", holder: alice) as? PostgresLease)
        let watching = Task { await lease.takenOver() }
        try await admin.client.withTransaction(logger: StoreFixture.logger) { db in
            try await db.query("LOCK TABLE dispatcher_leases IN ACCESS EXCLUSIVE MODE", logger: StoreFixture.logger)
            try await Self.terminateLeaseSession(db, "d1")
            #expect(await Harness.eventually(60) { lease.problem != nil })
            // What a second daemon leaves behind once it has held the id and gone.
            try await db.query("UPDATE dispatcher_leases SET epoch = epoch + 1, host = 'host-b', pid = 222", logger: StoreFixture.logger)
        }
        let reason = await watching.value
        #expect(reason?.contains("was held by another daemon while ours was lost (epoch 1 → 3)") == true, "\(reason ?? "nil")")
        #expect(lease.problem == reason, "a lease taken over never acts again")
        await lease.release()
        await a.close()
        await admin.close()
    }

    static func terminateLeaseSession(_ db: PostgresConnection, _ dispatcher: String) async throws {
        let rows = try await db.query("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = \("cloud-dispatch lease " + dispatcher)
            """, logger: StoreFixture.logger)
        var terminated = 0
        for try await done in rows.decode(Bool.self) where done { terminated += 1 }
        #expect(terminated == 1, "lease sessions terminated: \(terminated)")
    }
}

