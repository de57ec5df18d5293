import Foundation
import Queue
import Synchronization
import Testing

/// A queue store that is unreachable for the first N results it is asked to record.
final class FlakyStore: ContainerStore {
    let inner: any ContainerStore
    let failuresLeft: Mutex<Int>
    let lockFailuresLeft: Mutex<Int>

    init(_ inner: any ContainerStore, failCompletes: Int = 0, failLocks: Int = 0) {
        self.inner = inner
        failuresLeft = Mutex(failCompletes)
        lockFailuresLeft = Mutex(failLocks)
    }

    func apply(_ event: Event, to uuid: String) async throws(QueueError) -> Container {
        if case .complete = event, failuresLeft.withLock({ n in defer { n -= 1 }; return n > 0 }) {
            throw .unavailable("simulated outage")
        }
        return try await inner.apply(event, to: uuid)
    }

    func submit(_ specs: [ContainerSpec]) async throws(QueueError) -> [Container] { try await inner.submit(specs) }
    func get(_ uuid: String) async throws(QueueError) -> Container { try await inner.get(uuid) }
    func list(_ query: ContainerQuery) async throws(QueueError) -> ContainerPage { try await inner.list(query) }
    func lock(_ uuids: [String], by d: String) async throws(QueueError) -> [Container] {
        if lockFailuresLeft.withLock({ n in defer { n -= 1 }; return n > 0 }) { throw .unavailable("simulated outage") }
        return try await inner.lock(uuids, by: d)
    }
    func setSchedulingStatus(_ s: [String: String], by d: String) async throws(QueueError) { try await inner.setSchedulingStatus(s, by: d) }
    func changes() -> AsyncStream<Void> { inner.changes() }
    func changeCursor() async throws(QueueError) -> ChangeCursor { try await inner.changeCursor() }
    func summaries(changedSince c: ChangeCursor) async throws(QueueError) -> ContainerChanges { try await inner.summaries(changedSince: c) }
    func probeWrite() async throws(QueueError) { try await inner.probeWrite() }
    func acquireLease(for d: String, holder: LeaseHolder) async throws(QueueError) -> any DispatcherLease {
        try await inner.acquireLease(for: d, holder: holder)
    }
    func close() async {}
}

@Suite struct StoreOutageTests {
    @Test func aResultTheStoreCouldNotTakeIsRecordedLaterNotRerun() async throws {
        try await withWorld(await SimWorld()) { world in
            world.restartDispatcher(store: FlakyStore(world.store, failCompletes: 3))
            let uuids = try await world.submit(3, seconds: 200, exit: 4)
            #expect(try await world.run { try await world.allFinal() })
            for uuid in uuids {
                let c = try await world.store.get(uuid)
                #expect(c.state == .complete && c.exitCode == 4 && c.lockCount == 0, "recorded once the store was back: \(c.state)")
            }
            #expect(world.executor.startCount == 3, "nothing ran twice")
        }
    }

    @Test func nothingIsCreatedForContainersTheQueueWouldNotLock() async throws {
        try await withWorld(await SimWorld()) { world in
            world.restartDispatcher(store: FlakyStore(world.store, failLocks: 2))
            try await world.submit(4, seconds: 100)
            await world.dispatcher.tickAndSettle(now: world.now)
            #expect(try await world.listedInstances().isEmpty, "lock before create")
            #expect(try await world.run { try await world.allFinal() }, "and once the queue is back, all runs")
            #expect(world.executor.startCount == 4)
        }
    }
}
