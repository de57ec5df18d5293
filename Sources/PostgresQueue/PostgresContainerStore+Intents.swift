import Foundation
import PostgresNIO
import Queue

extension PostgresContainerStore: CreateIntentLog {
    public func recordIntent(_ intent: CreateIntent) async throws(QueueError) {
        let logger = logger
        try await transaction { db in
            _ = try await db.query(
                """
                INSERT INTO create_intents (token, instance_set, type_name, count, secret, created_at)
                VALUES (\(intent.token), \(intent.instanceSet), \(intent.typeName), \(intent.count), \(intent.secret), \(intent.createdAt))
                """, logger: logger)
        }
    }

    public func settleIntent(_ token: String) async throws(QueueError) {
        let logger = logger
        try await transaction { db in
            _ = try await db.query("DELETE FROM create_intents WHERE token = \(token)", logger: logger)
        }
    }

    public func openIntents(instanceSet: String) async throws(QueueError) -> [CreateIntent] {
        let logger = logger
        return try await withClient { client in
            var found: [CreateIntent] = []
            let rows = try await client.query(
                """
                SELECT token, type_name, count, secret, created_at FROM create_intents
                WHERE instance_set = \(instanceSet) ORDER BY created_at, token
                """, logger: logger)
            for try await (token, typeName, count, secret, createdAt) in rows.decode((String, String, Int, String?, Date).self) {
                found.append(
                    CreateIntent(
                        token: token, instanceSet: instanceSet, typeName: typeName, count: count, secret: secret,
                        createdAt: createdAt))
            }
            return found
        }
    }
}
