import Foundation
import GRDB
import Queue

extension SQLiteContainerStore: CreateIntentLog {
    public func recordIntent(_ intent: CreateIntent) async throws(QueueError) {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO create_intents (token, instance_set, type_name, count, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    intent.token, intent.instanceSet, intent.typeName, intent.count, intent.secret,
                    Timestamp.format(intent.createdAt),
                ])
        }
    }

    public func settleIntent(_ token: String) async throws(QueueError) {
        try await write { db in try db.execute(sql: "DELETE FROM create_intents WHERE token = ?", arguments: [token]) }
    }

    public func openIntents(instanceSet: String) async throws(QueueError) -> [CreateIntent] {
        let rows = try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT token, type_name, count, secret, created_at FROM create_intents WHERE instance_set = ? ORDER BY created_at, token
                    """, arguments: [instanceSet]
            )
            .map { row -> CreateIntent in
                let created: String = row["created_at"]
                return CreateIntent(
                    token: row["token"], instanceSet: instanceSet, typeName: row["type_name"], count: row["count"],
                    secret: row["secret"], createdAt: Timestamp.parse(created) ?? Date())
            }
        }
        return rows
    }
}
