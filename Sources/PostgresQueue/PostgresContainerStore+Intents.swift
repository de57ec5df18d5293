import Foundation
import PostgresNIO
import Queue

extension PostgresContainerStore: CreateIntentLog {
    /// Fenced under the intent's instance set (a dispatcher's id): a daemon whose id was taken
    /// over records no intent, so it creates nothing in the set another daemon now drains.
    public func recordIntent(_ intent: CreateIntent) async throws(QueueError) {
        let fence = epochs.fence(for: intent.instanceSet)
        let logger = logger
        let inserted = try await withClient { client in
            let rows = try await client.query(
                """
                INSERT INTO create_intents (token, instance_set, type_name, count, secret, created_at)
                SELECT \(intent.token), \(intent.instanceSet), \(intent.typeName), \(intent.count), \(intent.secret), \(intent.createdAt)
                WHERE \(fence: fence) RETURNING token
                """, logger: logger)
            var count = 0
            for try await _ in rows { count += 1 }
            return count
        }
        if inserted == 0, let fence, let refusal = try await fenceRefusal(fence) { throw .fenced(refusal) }
    }

    /// Not fenced: settling only forgets a record, never acts on the cloud, and an intent left
    /// open is reconciled with the cloud's listing by whoever next manages the set.
    public func settleIntent(_ token: String) async throws(QueueError) {
        let logger = logger
        try await withClient { client in
            _ = try await client.query("DELETE FROM create_intents WHERE token = \(token)", logger: logger)
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
