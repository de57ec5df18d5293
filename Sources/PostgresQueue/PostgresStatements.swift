import Foundation
import PostgresNIO
import Queue

/// The single-row fast path's statements, prepared once per connection (PostgresNIO caches
/// them by name), each one round trip in autocommit with its NOTIFY inside: a notification
/// leaves only if the write commits, and no BEGIN/COMMIT round trips are paid.
enum PostgresStatements {
    static let channel = PostgresContainerStore.channel

    /// Inserts one container unless its client request id was used before. Returns whether it
    /// was inserted and, if not, the earlier row's doc as of the statement's snapshot (nil when
    /// a concurrent submit committed that id after the snapshot: read it again then).
    struct InsertOne: PostgresPreparedStatement {
        static let name = "cloud_dispatch_insert_one_v1"
        static let sql = """
            WITH inserted AS (
                INSERT INTO containers (uuid, state, priority, locked_by, client_request_id, modified_at, doc)
                VALUES ($1, $2, $3, NULL, $4, $5, $6)
                ON CONFLICT (client_request_id) DO NOTHING RETURNING uuid),
            notified AS (SELECT pg_notify('\(channel)', 'submit') FROM inserted)
            SELECT (SELECT count(*) FROM notified),
                   (SELECT doc FROM containers WHERE client_request_id = $4)
            """
        static let bindingDataTypes: [PostgresDataType] = [.text, .text, .int8, .text, .timestamptz, .text]
        typealias Row = (inserted: Int, earlier: String?)

        let container: Container

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 6)
            bindings.append(container.uuid)
            bindings.append(container.state.rawValue)
            bindings.append(container.priority)
            bindings.append(container.clientRequestID)
            bindings.append(container.modifiedAt)
            bindings.append(ContainerCodec.encode(container))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((Int, String?).self) }
    }

    /// Inserts a batch (rows as parallel arrays) in one statement, skipping client request ids
    /// used before; returns the uuids it inserted. Runs inside the batch's transaction, which
    /// still has to compare skipped specs with the earlier ones before it commits.
    struct InsertBatch: PostgresPreparedStatement {
        static let name = "cloud_dispatch_insert_batch_v1"
        static let sql = """
            WITH inserted AS (
                INSERT INTO containers (uuid, state, priority, locked_by, client_request_id, modified_at, doc)
                SELECT u, s, p, NULL, NULLIF(r, ''), $6, d FROM unnest($1, $2, $3, $4, $5) AS t(u, s, p, r, d)
                ON CONFLICT (client_request_id) DO NOTHING RETURNING uuid),
            notified AS (SELECT pg_notify('\(channel)', 'submit') WHERE EXISTS (SELECT 1 FROM inserted))
            SELECT uuid FROM inserted, (SELECT count(*) FROM notified) AS n
            """
        static let bindingDataTypes: [PostgresDataType] = [.textArray, .textArray, .int8Array, .textArray, .textArray, .timestamptz]
        typealias Row = String

        let containers: [Container]
        /// Their docs (`ContainerCodec.encode`), encoded before: a batch's encoding is split over the cores.
        let docs: [String]
        let now: Date

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 6)
            bindings.append(containers.map(\.uuid))
            bindings.append(containers.map(\.state.rawValue))
            bindings.append(containers.map(\.priority))
            bindings.append(containers.map { $0.clientRequestID ?? "" })
            bindings.append(docs)
            bindings.append(now)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
    }

    /// The container that `client_request_id` names, read in a fresh snapshot.
    struct ByRequestID: PostgresPreparedStatement {
        static let name = "cloud_dispatch_by_request_id_v1"
        static let sql = "SELECT doc FROM containers WHERE client_request_id = $1"
        static let bindingDataTypes: [PostgresDataType] = [.text]
        typealias Row = String

        let requestID: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(requestID)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
    }

    /// Containers with their row versions (`xmin`: the id of the transaction that wrote this
    /// version of the row, so it changes with every write and never repeats in practice), in
    /// uuid order. No row lock is taken: `WriteIfUnchanged` and `WriteLocksIfUnchanged` check
    /// the version instead.
    struct ReadVersioned: PostgresPreparedStatement {
        static let name = "cloud_dispatch_read_versioned_v2"
        static let sql = "SELECT doc, xmin::text FROM containers WHERE uuid = ANY($1) ORDER BY uuid"
        static let bindingDataTypes: [PostgresDataType] = [.textArray]
        typealias Row = (doc: String, version: String)

        let uuids: [String]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(uuids)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode((String, String).self) }
    }

    /// Writes a container decided by `Transition.apply` only if its row is still the version
    /// the decision was made on, and notifies in the same statement. Returns 1 if written, 0
    /// if another writer came first (read again and decide again).
    struct WriteIfUnchanged: PostgresPreparedStatement {
        static let name = "cloud_dispatch_write_if_unchanged_v2"
        /// $9/$10: the fence (see `Fence`), NULL for a write under no lease this process holds.
        static let sql = """
            WITH written AS (
                UPDATE containers SET state = $2, priority = $3, locked_by = $4, modified_at = $5, doc = $6
                WHERE uuid = $1 AND xmin::text = $7
                  AND ($9::text IS NULL OR EXISTS (SELECT 1 FROM dispatcher_leases WHERE dispatcher_id = $9 AND epoch = $10))
                RETURNING uuid),
            notified AS (SELECT pg_notify('\(channel)', $8) FROM written)
            SELECT count(*) FROM notified
            """
        static let bindingDataTypes: [PostgresDataType] = [.text, .text, .int8, .text, .timestamptz, .text, .text, .text, .text, .int8]
        typealias Row = Int

        let container: Container
        let version: String
        let event: String
        let fence: Fence?

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 10)
            bindings.append(container.uuid)
            bindings.append(container.state.rawValue)
            bindings.append(container.priority)
            bindings.append(container.lockedBy)
            bindings.append(container.modifiedAt)
            bindings.append(ContainerCodec.encode(container))
            bindings.append(version)
            bindings.append(event)
            bindings.append(fence?.dispatcher)
            bindings.append(fence?.epoch)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int.self) }
    }

    /// Writes containers `Transition.apply` locked, each only if its row is still the version
    /// read and no one holds it now (skipped, never waited for), and notifies once in the same
    /// statement. Returns the uuids written; a row that changed or was held stays as it is.
    struct WriteLocksIfUnchanged: PostgresPreparedStatement {
        static let name = "cloud_dispatch_write_locks_if_unchanged_v1"
        /// $7/$8: the fence (see `Fence`), NULL for a write under no lease this process holds.
        static let sql = """
            WITH wanted AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[])
                                      AS w(uuid, state, locked_by, version, modified_at, doc)),
                 target AS (SELECT c.uuid FROM containers c JOIN wanted USING (uuid)
                            WHERE c.xmin::text = wanted.version
                              AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM dispatcher_leases WHERE dispatcher_id = $7 AND epoch = $8))
                            FOR UPDATE OF c SKIP LOCKED),
                 written AS (UPDATE containers SET state = wanted.state, locked_by = NULLIF(wanted.locked_by, ''),
                                                   modified_at = wanted.modified_at, doc = wanted.doc
                             FROM wanted WHERE containers.uuid = wanted.uuid AND containers.uuid IN (SELECT uuid FROM target)
                             RETURNING containers.uuid),
                 notified AS (SELECT pg_notify('\(channel)', 'lock') WHERE EXISTS (SELECT 1 FROM written))
            SELECT uuid FROM written, (SELECT count(*) FROM notified) AS n
            """
        static let bindingDataTypes: [PostgresDataType] = [
            .textArray, .textArray, .textArray, .textArray, .timestamptzArray, .textArray, .text, .int8,
        ]
        typealias Row = String

        /// Each locked container with the version of the row it was decided on, and its doc.
        let locks: [(container: Container, version: String)]
        let docs: [String]
        let fence: Fence?

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 8)
            bindings.append(locks.map(\.container.uuid))
            bindings.append(locks.map(\.container.state.rawValue))
            bindings.append(locks.map { $0.container.lockedBy ?? "" })
            bindings.append(locks.map(\.version))
            bindings.append(locks.map(\.container.modifiedAt))
            bindings.append(docs)
            bindings.append(fence?.dispatcher)
            bindings.append(fence?.epoch)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
    }
}
