import Foundation
import Queue
import Scheduler
import Synchronization
import Testing
import WorkerPool
import DriverHost
import Simulation

/// Holds one call, once armed: the call has done its work, says so, and returns only when the
/// test releases it (what it answers is then older than what the test did meanwhile).
final class OneCallHold: CallHold {
    private let armed = Mutex(false)
    private let (taken, takenSignal) = AsyncStream<Void>.makeStream()
    private let (released, releaseSignal) = AsyncStream<Void>.makeStream()

    func arm() { armed.withLock { $0 = true } }
    func release() { releaseSignal.yield() }
    /// Until the held call has done its work.
    func waitUntilHeld() async { for await _ in taken { break } }

    /// In the call, after its work: waits for `release` if this is the armed call.
    func pass() async {
        guard armed.withLock({ armed in defer { armed = false }; return armed }) else { return }
        takenSignal.yield()
        for await _ in released { break }
    }
}

/// A store whose next read of the change feed (a round's read of the queue) can be held after
/// reading: the round then plans from what it read while the test acts.
final class HeldReadStore: ForwardingStore, @unchecked Sendable {
    let hold = OneCallHold()

    override func summaries(changedSince c: ChangeCursor) async throws(QueueError) -> ContainerChanges {
        let changes = try await inner.summaries(changedSince: c)
        await hold.pass()
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

    /// A round of `world`, held by `hold` (after its read, or its probe) while `meanwhile` runs.
    func round(of world: SimWorld, heldBy hold: OneCallHold, meanwhile: () async throws -> Void) async throws {
        hold.arm()
        let (now, dispatcher) = (world.now, world.dispatcher)
        let round = Task { _ = await dispatcher.tickAndSettle(now: now) }
        await hold.waitUntilHeld()
        try await meanwhile()
        hold.release()
        await round.value
    }

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

    /// x runs on the worker when the queue says Queued again (requeued by hand; the worker
    /// still runs it): the round stops that copy first, so arrivals do not start another.
    @Test func anArrivalWhoseCopyStillRunsIsLeftToTheRound() async throws {
        let (world, _) = try await worldWithAnIdleWorker()
        try await withWorld(world) { world in
            let x = try await world.submit(1, vcpus: 1)[0]
            await world.dispatcher.placeArrivals(now: world.now)
            let worker = try #require(world.executor.node(running: x), "x started on the idle worker")
            _ = try await world.store.apply(.requeue(by: world.dispatcher.id, reason: "by hand"), to: x)
            let starts = world.executor.startCount
            await world.dispatcher.placeArrivals(now: world.now)
            #expect(world.executor.startCount == starts, "no second copy of x beside the one on \(worker)")
            #expect(try await state(world, x) == .queued)
        }
    }

    /// A worker that says it is broken is drained at the next probe: neither an arrival nor a
    /// round puts anything there, and it goes once idle.
    @Test func aBrokenWorkerTakesNoArrivalAndGoes() async throws {
        let (world, _) = try await worldWithAnIdleWorker()
        try await withWorld(world) { world in
            let worker = try #require(world.executor.liveNodes.first)
            world.executor.breakNode(worker)
            world.now += 10
            await world.dispatcher.tickAndSettle(now: world.now)
            #expect(await world.dispatcher.pool.views().first { $0.id == worker }?.idleBehavior == .drain)
            let x = try await world.submit(1)[0]
            await world.dispatcher.placeArrivals(now: world.now)
            #expect(try await state(world, x) == .queued, "not on the broken worker")
            #expect(try await world.run { try await world.store.get(x).state == .complete }, "on a new instance")
            #expect(world.executor.node(running: x) == nil)
            #expect(try await world.listedInstances().allSatisfy { $0.id != worker }, "the broken one was shut down")
        }
    }

    /// The round read the queue (y waiting) before x arrived and took the only worker: its
    /// plan, which puts y there, yields, and y waits for the next pass.
    @Test func aRoundThatReadBeforeAnArrivalYieldsItsWorker() async throws {
        let (world, store) = try await worldWithAnIdleWorker()
        try await withWorld(world) { world in
            let y = try await world.submit(1, vcpus: 2)[0]
            var x = ""
            try await round(of: world, heldBy: store.hold) {
                x = try await world.submit(1, vcpus: 2, priority: 9)[0]
                await world.dispatcher.placeArrivals(now: world.now)
            }
            #expect(try await state(world, x) == .running)
            #expect(world.executor.node(running: x) != nil)
            #expect(world.executor.node(running: y) == nil, "the worker has room for one of them")
            #expect(try await state(world, y) == .queued)
        }
    }
}

extension ArrivalsTests {
    /// x was queued when the round read the queue, and an arrival started it before the round
    /// reconciled: the round must not take it for a second copy of a queued container and stop it.
    @Test func anArrivalTheRoundReadAsQueuedIsNotStoppedAsASecondCopy() async throws {
        let (world, store) = try await worldWithAnIdleWorker()
        try await withWorld(world) { world in
            let x = try await world.submit(1, seconds: 3600, vcpus: 2)[0]
            try await round(of: world, heldBy: store.hold) {
                await world.dispatcher.placeArrivals(now: world.now)
                #expect(world.executor.node(running: x) != nil)
            }
            #expect(world.executor.stopRequests(x) == 0, "not stopped")
            world.now += 10
            await world.dispatcher.tickAndSettle(now: world.now)
            #expect(try await world.store.get(x).state == .running)
            #expect(world.executor.stopRequests(x) == 0)
        }
    }

    /// A round's probe of the only worker is answered (nothing runs there) while an arrival
    /// starts on it: the answer predates the start, so it must not make the arrival "vanished"
    /// (requeued, and run a second time).
    @Test func aProbeSentBeforeAnArrivalsStartDoesNotLoseIt() async throws {
        let (world, _) = try await worldWithAnIdleWorker()
        try await withWorld(world) { world in
            let hold = OneCallHold()
            let held = HeldProbeAnswers(inner: world.executor, held: hold)
            let pool = WorkerPool(settings: world.settings, instanceSet: world.cloud, executor: held, types: world.types,
                                  logger: SimWorld.quiet, clock: world.clock)
            world.dispatcher = Dispatcher(id: "sim-dispatcher", store: world.store, pool: pool, types: world.types,
                                          limits: world.limits, logger: SimWorld.quiet)
            await world.dispatcher.tickAndSettle(now: world.now)  // adopts the idle worker; room is known
            world.now += 10
            let starts = world.executor.startCount
            var x = ""
            try await round(of: world, heldBy: hold) {
                x = try await world.submit(1, seconds: 3600, vcpus: 2)[0]
                await world.dispatcher.placeArrivals(now: world.now)
                #expect(world.executor.node(running: x) != nil, "started while the probe was out")
            }
            #expect(try await world.store.get(x).state == .running, "still running: the probe's answer was older than its start")
            for _ in 0..<3 {
                world.now += 10
                await world.dispatcher.tickAndSettle(now: world.now)
            }
            #expect(try await world.store.get(x).state == .running)
            #expect(world.executor.startCount == starts + 1, "started once")
        }
    }
}
