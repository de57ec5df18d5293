import Foundation
import Queue
import Scheduler
import Synchronization
import Testing

/// A store that, once armed, holds its next read of the change feed (a round's read of the
/// queue) after reading: the round then plans from what it read while the test acts.
final class HeldReadStore: ContainerStore {
    let inner: any ContainerStore
    private let armed = Mutex(false)
    let (readTaken, readTakenSignal) = AsyncStream<Void>.makeStream()
    let (release, releaseSignal) = AsyncStream<Void>.makeStream()

    init(_ inner: any ContainerStore) { self.inner = inner }

    func holdNextRead() { armed.withLock { $0 = true } }

    func summaries(changedSince c: ChangeCursor) async throws(QueueError) -> ContainerChanges {
        let hold = armed.withLock { armed in
            defer { armed = false }
            return armed
        }
        let changes = try await inner.summaries(changedSince: c)
        if hold {
            readTakenSignal.yield()
            for await _ in release { break }
        }
        return changes
    }
    func changeCursor() async throws(QueueError) -> ChangeCursor { try await inner.changeCursor() }
    func summaries(_ query: ContainerQuery) async throws(QueueError) -> ContainerSummaryPage { try await inner.summaries(query) }
    func apply(_ event: Event, to uuid: String) async throws(QueueError) -> Container { try await inner.apply(event, to: uuid) }
    func submit(_ specs: [ContainerSpec]) async throws(QueueError) -> [Container] { try await inner.submit(specs) }
    func get(_ uuid: String) async throws(QueueError) -> Container { try await inner.get(uuid) }
    func list(_ query: ContainerQuery) async throws(QueueError) -> ContainerPage { try await inner.list(query) }
    func lock(_ uuids: [String], by d: String) async throws(QueueError) -> [Container] { try await inner.lock(uuids, by: d) }
    func setSchedulingStatus(_ s: [String: String], by d: String) async throws(QueueError) { try await inner.setSchedulingStatus(s, by: d) }
    func changes() -> AsyncStream<Void> { inner.changes() }
    func probeWrite() async throws(QueueError) { try await inner.probeWrite() }
    func acquireLease(for d: String, holder: LeaseHolder) async throws(QueueError) -> any DispatcherLease {
        try await inner.acquireLease(for: d, holder: holder)
    }
    func close() async {}
}

/// Containers that arrive between rounds start on room the last round left free, without a
/// round; a round that planned from an older read yields to them.
@Suite struct ArrivalsTests {
    /// One small instance (2 vCPUs), idle after its first container ended; one more is not allowed.
    func worldWithAnIdleWorker() async throws -> (SimWorld, HeldReadStore) {
        let world = try await SimWorld(limits: Limits(maxInstances: 1, idleTimeout: 3600))
        let store = HeldReadStore(world.store)
        world.restartDispatcher(store: store)
        let first = try await world.submit(1, seconds: 30)[0]
        #expect(try await world.run { try await world.store.get(first).state == .complete })
        await world.dispatcher.tickAndSettle(now: world.now)  // its worker probed idle: the room is known
        return (world, store)
    }

    func state(_ world: SimWorld, _ uuid: String) async throws -> ContainerState { try await world.store.get(uuid).state }

    @Test func anArrivalStartsWithoutARoundAndWhatDoesNotFitWaitsForOne() async throws {
        let (world, _) = try await worldWithAnIdleWorker()
        try await withWorld(world) { world in
            let starts = world.executor.startCount
            let big = try await world.submit(1, vcpus: 4, priority: 9)[0]
            let fits = try await world.submit(1, vcpus: 2)[0]
            await world.dispatcher.placeArrivals(now: world.now)
            #expect(try await state(world, fits) == .running, "on the idle worker, with no round")
            #expect(world.executor.node(running: fits) != nil)
            #expect(try await state(world, big) == .queued, "4 vCPUs fit no ready worker: the next round plans it")
            await world.dispatcher.tickAndSettle(now: world.now)
            #expect(world.executor.startCount == starts + 1, "the round starts nothing twice")
        }
    }

    /// The round read the queue (y waiting) before x arrived and took the only worker: its
    /// plan, which puts y there, yields, and y waits for the next pass.
    @Test func aRoundThatReadBeforeAnArrivalYieldsItsWorker() async throws {
        let (world, store) = try await worldWithAnIdleWorker()
        try await withWorld(world) { world in
            let y = try await world.submit(1, vcpus: 2)[0]
            store.holdNextRead()
            let (now, dispatcher) = (world.now, world.dispatcher)
            let round = Task { _ = await dispatcher.tickAndSettle(now: now) }
            for await _ in store.readTaken { break }
            let x = try await world.submit(1, vcpus: 2, priority: 9)[0]
            await world.dispatcher.placeArrivals(now: now)
            store.releaseSignal.yield()
            await round.value
            #expect(try await state(world, x) == .running)
            #expect(world.executor.node(running: x) != nil)
            #expect(world.executor.node(running: y) == nil, "the worker has room for one of them")
            #expect(try await state(world, y) == .queued)
        }
    }
}
