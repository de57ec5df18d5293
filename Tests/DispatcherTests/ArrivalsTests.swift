import Foundation
import Queue
import Scheduler
import Synchronization
import Testing

/// A store that, once armed, holds its next read of the change feed (a round's read of the
/// queue) after reading: the round then plans from what it read while the test acts.
final class HeldReadStore: ForwardingStore, @unchecked Sendable {
    private let armed = Mutex(false)
    let (readTaken, readTakenSignal) = AsyncStream<Void>.makeStream()
    let (release, releaseSignal) = AsyncStream<Void>.makeStream()

    func holdNextRead() { armed.withLock { $0 = true } }

    override func summaries(changedSince c: ChangeCursor) async throws(QueueError) -> ContainerChanges {
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
