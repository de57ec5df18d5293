import Foundation
import GRDB
import Logging
import PostgresNIO
import Queue
import Testing

@testable import PostgresQueue
@testable import SQLiteQueue

/// A queue written by a version before the change feed migrates: its containers are read by a
/// full read, and a change to one of them is in the feed.
@Suite struct ChangeFeedMigrationTests {
    @Test func anSQLiteQueueFromBeforeTheFeedMigrates() async throws {
        let folder = StoreFixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/queue.sqlite3"
        let old = ContainerFactory.make(spec(), now: Timestamp.now())
        do {
            let database = try DatabaseQueue(path: path)
            try SQLiteContainerStore.migrator.migrate(database, upTo: "v3: create intents")
            try await database.write { db in
                try db.execute(
                    sql: "INSERT INTO containers (uuid, state, priority, locked_by, client_request_id, modified_at, doc) VALUES (?, ?, ?, NULL, NULL, ?, ?)",
                    arguments: [old.uuid, old.state.rawValue, old.priority, Timestamp.format(old.modifiedAt), ContainerCodec.encode(old)])
            }
            try database.close()
        }
        let store = try SQLiteContainerStore.open(path: path)
        try await Self.expectTheFeedWorks(on: store, with: old.uuid)
        await store.close()
    }

    @Test func aPostgresQueueFromBeforeTheFeedMigrates() async throws {
        let url = try await StoreFixture.freshPostgresDatabase()
        let old = ContainerFactory.make(spec(), now: Timestamp.now())
        let client = PostgresClient(configuration: try PostgresURL(url).clientConfiguration(), backgroundLogger: StoreFixture.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            try await PostgresContainerStore.migrate(client, logger: StoreFixture.logger, upTo: 4)
            try await client.query(
                """
                INSERT INTO containers (uuid, state, priority, locked_by, client_request_id, modified_at, doc)
                VALUES (\(old.uuid), \(old.state.rawValue), \(old.priority), NULL, NULL, now(), \(ContainerCodec.encode(old)))
                """, logger: StoreFixture.logger)
            group.cancelAll()
        }
        let store = try await PostgresContainerStore.open(url: url, logger: StoreFixture.logger)
        try await Self.expectTheFeedWorks(on: store, with: old.uuid)
        await store.close()
    }

    static func expectTheFeedWorks(on store: any ContainerStore, with uuid: String) async throws {
        let cursor = try await store.changeCursor()
        let all = try await store.summaries(ContainerQuery(states: [.queued])).items
        #expect(all.map(\.uuid) == [uuid], "the full read finds the container from before")
        #expect(try await store.summaries(changedSince: cursor).items.isEmpty, "nothing changed yet")
        _ = try await store.apply(.setPriority(7), to: uuid)
        let changes = try await store.summaries(changedSince: cursor)
        #expect(changes.items.map(\.uuid) == [uuid] && changes.items.first?.priority == 7, "the change is in the feed")
        #expect(try await store.summaries(changedSince: changes.cursor).items.count <= 1, "and not forever")
    }
}
