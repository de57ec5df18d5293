import Queue

/// A store that passes every call on to `inner`. A test's store subclasses it and overrides
/// only the calls it changes (a fault, a hold, a race).
class ForwardingStore: ContainerStore, @unchecked Sendable {
    let inner: any ContainerStore

    init(_ inner: any ContainerStore) { self.inner = inner }

    func submit(_ specs: [ContainerSpec]) async throws(QueueError) -> [Container] { try await inner.submit(specs) }
    func get(_ uuid: String) async throws(QueueError) -> Container { try await inner.get(uuid) }
    func list(_ query: ContainerQuery) async throws(QueueError) -> ContainerPage { try await inner.list(query) }
    func summaries(_ query: ContainerQuery) async throws(QueueError) -> ContainerSummaryPage { try await inner.summaries(query) }
    func changeCursor() async throws(QueueError) -> ChangeCursor { try await inner.changeCursor() }
    func summaries(changedSince c: ChangeCursor) async throws(QueueError) -> ContainerChanges { try await inner.summaries(changedSince: c) }
    func apply(_ event: Event, to uuid: String) async throws(QueueError) -> Container { try await inner.apply(event, to: uuid) }
    func lock(_ uuids: [String], by d: String) async throws(QueueError) -> [Container] { try await inner.lock(uuids, by: d) }
    func setSchedulingStatus(_ s: [String: String], by d: String) async throws(QueueError) { try await inner.setSchedulingStatus(s, by: d) }
    func changes() -> AsyncStream<Void> { inner.changes() }
    func probeWrite() async throws(QueueError) { try await inner.probeWrite() }
    func acquireLease(for d: String, holder: LeaseHolder) async throws(QueueError) -> any DispatcherLease {
        try await inner.acquireLease(for: d, holder: holder)
    }
    func close() async {}
}
