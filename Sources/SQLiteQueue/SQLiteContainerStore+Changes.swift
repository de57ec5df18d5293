import GRDB
import Queue

/// The change feed (schema in migration v4): every insert or update of a container takes the
/// next number of one counter. SQLite commits one writer at a time, so numbers become visible
/// in order and "rows numbered past the last one read" misses nothing.
extension SQLiteContainerStore {
    public func changeCursor() async throws(QueueError) -> ChangeCursor {
        let value = try await read { db in try Int64.fetchOne(db, sql: "SELECT value FROM change_counter") ?? 0 }
        return ChangeCursor(position: value)
    }

    public func summaries(changedSince cursor: ChangeCursor) async throws(QueueError) -> ContainerChanges {
        // One read transaction: the counter and the rows are of the same moment.
        let (docs, now) = try await read { db in
            let now = try Int64.fetchOne(db, sql: "SELECT value FROM change_counter") ?? 0
            let docs = try String.fetchAll(
                db, sql: "SELECT \(Self.summaryColumn) FROM containers WHERE change_seq > ? ORDER BY change_seq",
                arguments: [cursor.position])
            return (docs, now)
        }
        let items = try docs.map { doc throws(QueueError) in try decode(doc, with: ContainerSummary.decode) }
        return ContainerChanges(items: items, cursor: ChangeCursor(position: now))
    }
}
