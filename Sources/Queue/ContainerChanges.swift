/// A position in a store's change feed: where a reader left off. Only the store that issued it
/// interprets it (SQLite: a change counter; PostgreSQL: a transaction id, see
/// `PostgresContainerStore.summaries(changedSince:)`), so a reader only keeps it and hands it back.
///
///     var cursor = try await store.changeCursor()     // before a full read, not after
///     var view = try await readWholeActiveQueue()
///     let changes = try await store.summaries(changedSince: cursor)
///     for c in changes.items { view.apply(c) }        // a row may come twice: apply idempotently
///     cursor = changes.cursor
public struct ChangeCursor: Sendable, Hashable, CustomStringConvertible {
    /// The store's own number for it.
    public let position: Int64

    public init(position: Int64) { self.position = position }

    public var description: String { "change \(position)" }
}

/// What `ContainerStore.summaries(changedSince:)` returns: every container changed since a cursor,
/// in any state (one that left the active states comes too, so a reader can drop it), and the
/// cursor to ask from next time.
public struct ContainerChanges: Sendable, Hashable {
    public var items: [ContainerSummary]
    public var cursor: ChangeCursor

    public init(items: [ContainerSummary], cursor: ChangeCursor) {
        self.items = items
        self.cursor = cursor
    }
}
