import Logging
import PostgresNIO
import Queue

/// The change feed (schema in migration 4): a trigger stamps every inserted or updated container
/// row with its transaction's id, `pg_current_xact_id()` (xid8: 64 bits, never wraps).
///
/// Why a reader misses nothing, though transactions commit in another order than their ids were
/// given: a cursor is the `xmin` of a snapshot S — every transaction with an id below it had
/// ended when S was taken, so S saw all of their rows. A row S did not see was written by a
/// transaction still running at S or begun after it, and ids are given in increasing order, so
/// its id is at least S's `xmin`. The next read, in a snapshot of its own, takes every row
/// stamped with an id at or above the cursor; the rows of transactions that commit later still
/// have ids at or above that read's own `xmin`, its new cursor. Rows are seen again (those of
/// transactions S already saw, between its `xmin` and `xmax`): a reader applies them
/// idempotently. A write transaction left open holds `xmin` back, so reads grow until it ends,
/// but stay correct.
extension PostgresContainerStore {
    public func changeCursor() async throws(QueueError) -> ChangeCursor {
        let logger = logger
        let position = try await withClient { client in
            var found: Int64 = 0
            for try await x in try await client.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint", logger: logger)
                .decode(Int64.self)
            {
                found = x
            }
            return found
        }
        return ChangeCursor(position: position)
    }

    /// One statement, so one snapshot for the new cursor and the rows (a statement's
    /// `pg_current_snapshot()` is its own): one round trip, no transaction. The cursor comes
    /// with every row, and alone (a NULL summary) when nothing changed.
    public func summaries(changedSince cursor: ChangeCursor) async throws(QueueError) -> ContainerChanges {
        let logger = logger
        return try await withClient { client in
            var next = cursor.position
            var items: [ContainerSummary] = []
            let rows = try await client.query(
                """
                SELECT here.cursor, changed.summary
                FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS cursor) AS here
                LEFT JOIN (SELECT \(unescaped: Self.summaryColumn) AS summary
                           FROM (SELECT uuid, state, priority, locked_by, doc::jsonb AS d FROM containers
                                 WHERE changed_xid >= \(cursor.position)::text::xid8) AS c) AS changed ON TRUE
                """, logger: logger)
            for try await (position, summary) in rows.decode((Int64, String?).self) {
                next = position
                if let summary { items.append(try ContainerSummary.decode(summary)) }
            }
            return ContainerChanges(items: items, cursor: ChangeCursor(position: next))
        }
    }
}
