import Foundation
import GRDB
import PostgresNIO
@testable import PostgresQueue
import Queue
@testable import SQLiteQueue
import Testing

/// The write probe sees a store that answers reads but refuses writes, and sees it recover.
/// The fault is real: the database itself refuses the probe's write (a trigger that aborts,
/// as a full or read-only disk would), not a test double.
@Suite struct WriteProbeTests {
    @Test(arguments: StoreKind.allCases)
    func aStoreThatRefusesWritesIsReportedUntilItRecovers(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let probe = StoreWriteProbe(store: store)
            #expect(probe.status == .unknown)
            await probe.probeOnce()
            #expect(probe.status == .ok)

            try await Self.refuseProbeWrites(store)
            await probe.probeOnce()
            guard case .failing(let since, let reason) = probe.status else {
                Issue.record("a refused write was reported as \(probe.status)")
                return
            }
            #expect(reason.contains("disk is full (test)"), "\(reason)")
            #expect(try await store.list(ContainerQuery()).items.isEmpty, "reads still work")
            await probe.probeOnce()
            guard case .failing(let stillSince, _) = probe.status else { return }
            #expect(stillSince == since, "a failure keeps the time it began")

            try await Self.acceptProbeWrites(store)
            await probe.probeOnce()
            #expect(probe.status == .ok)
        }
    }

    static func refuseProbeWrites(_ store: any ContainerStore) async throws {
        switch store {
        case let sqlite as SQLiteContainerStore:
            try await sqlite.database.write { db in
                try db.execute(sql: """
                    CREATE TRIGGER refuse BEFORE UPDATE ON health_probe BEGIN SELECT RAISE(ABORT, 'disk is full (test)'); END;
                    CREATE TRIGGER refuse_insert BEFORE INSERT ON health_probe BEGIN SELECT RAISE(ABORT, 'disk is full (test)'); END;
                    """)
            }
        case let postgres as PostgresContainerStore:
            for sql in ["CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk is full (test)'; END $$ LANGUAGE plpgsql",
                        "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON health_probe FOR EACH ROW EXECUTE FUNCTION refuse()"] {
                try await postgres.client.query(PostgresQuery(unsafeSQL: sql), logger: StoreFixture.logger)
            }
        default:
            throw FixtureError("no way to make \(type(of: store)) refuse writes")
        }
    }

    static func acceptProbeWrites(_ store: any ContainerStore) async throws {
        switch store {
        case let sqlite as SQLiteContainerStore:
            try await sqlite.database.write { db in try db.execute(sql: "DROP TRIGGER refuse; DROP TRIGGER refuse_insert") }
        case let postgres as PostgresContainerStore:
            try await postgres.client.query("DROP TRIGGER refuse ON health_probe", logger: StoreFixture.logger)
        default:
            throw FixtureError("no way to make \(type(of: store)) accept writes")
        }
    }
}
