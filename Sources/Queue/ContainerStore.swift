import Foundation

/// The queue's source of truth: every container, its state, and every change to it. Two
/// implementations serve it — `SQLiteContainerStore` (embedded default) and
/// `PostgresContainerStore` (production, shareable by several dispatchers) — and one test suite
/// runs against both.
///
///     let store = try await SQLiteContainerStore.open(path: "queue.sqlite3")
///     let [c] = try await store.submit([ContainerSpec(command: ["echo", "hi"])])
///     let locked = try await store.lock([c.uuid], by: "dispatcher-1")
///     _ = try await store.apply(.start(by: "dispatcher-1", instance: "small lo-1"), to: c.uuid)
///
/// Every state change goes through `Transition.apply` inside the store's own transaction, so
/// an illegal change is an error, never a silent overwrite.
public protocol ContainerStore: Sendable {
    /// Adds containers, all or none. A spec whose `client_request_id` was seen before returns
    /// the earlier container instead (a different spec under the same id is a `conflict`).
    func submit(_ specs: [ContainerSpec]) async throws(QueueError) -> [Container]

    func get(_ uuid: String) async throws(QueueError) -> Container

    /// One page of containers in submit order.
    func list(_ query: ContainerQuery) async throws(QueueError) -> ContainerPage

    /// The same page as `list`, with only what scheduling needs of each container.
    func summaries(_ query: ContainerQuery) async throws(QueueError) -> ContainerSummaryPage

    /// Where the change feed stands now. Read it *before* a full read of the queue: whatever
    /// changes during or after that read is then in the next `summaries(changedSince:)`.
    func changeCursor() async throws(QueueError) -> ChangeCursor

    /// Every container written since `cursor` (by any process), whatever its state now, and the
    /// cursor for the next call. A container may come again without a new change: a reader
    /// applies what it gets idempotently. See `ContainerChanges`.
    func summaries(changedSince cursor: ChangeCursor) async throws(QueueError) -> ContainerChanges

    /// Applies one event to one container (see `Transition`).
    func apply(_ event: Event, to uuid: String) async throws(QueueError) -> Container

    /// Locks those of `uuids` that are still Queued and not being changed by anyone else at
    /// this moment; returns the ones this call locked. Never blocks on another dispatcher.
    func lock(_ uuids: [String], by dispatcher: String) async throws(QueueError) -> [Container]

    /// Records why waiting containers wait (no state change); unknown or final ones are skipped.
    /// Written by `dispatcher`: refused (`fenced`) once another daemon took that id over.
    func setSchedulingStatus(_ statuses: [String: String], by dispatcher: String) async throws(QueueError)

    /// Yields whenever containers were submitted or changed, here or (PostgreSQL) by another
    /// process, so the scheduler need not poll.
    func changes() -> AsyncStream<Void>

    /// Writes a scratch row and commits it: throws when the store cannot take writes now (see
    /// `StoreWriteProbe`). Touches no container.
    func probeWrite() async throws(QueueError)

    /// Takes the one lease on `dispatcher` for this process's life, or throws `conflict` naming
    /// who holds it (see `DispatcherLease`).
    func acquireLease(for dispatcher: String, holder: LeaseHolder) async throws(QueueError) -> any DispatcherLease

    /// Releases connections and locks. The store is unusable afterwards.
    func close() async
}
