import DriverHost
import Foundation
import Logging
import Queue
import Scheduler
import Simulation
import Units
import WorkerPool

/// `bench round`: one dispatcher holding a deep queue — `running` containers on as many
/// instances of the sim cloud (through the ABI), `waiting` more that no limit lets in — and the
/// time of its rounds: one that reads the whole active queue, then rounds that read only what
/// changed (`changes` writes between them); then submit → lock latency of one container at a
/// time at that depth, the dispatcher running on wake-ups as `serve` runs it.
///
/// Sizes keep the depth put: an instance has 4 vcpus and runs one 3-vcpu container; waiting
/// containers need 2 vcpus (no room anywhere, `max_instances` reached); a probe needs 1 and has
/// a higher priority, so it is placed, locked and started on a busy instance at once.
///
///     let result = try await RoundAtDepth(waiting: 100_000, running: 10_000)
///         .run(sim: sim, store: store, logger: logger) { print($0) }
public struct RoundAtDepth: Sendable {
    public var waiting: Int
    public var running: Int
    /// Change-feed rounds timed after the full one.
    public var steadyRounds = 20
    /// Writes between two timed rounds: submits, cancels and priority changes of waiting containers.
    public var changes = 300
    /// Containers whose submit → lock time is measured, one after another.
    public var probes = 200
    /// Rounds at most before giving up on filling the fleet.
    public var maxFillRounds = 400
    /// The sim instance set (one per run: the sim cloud keeps a set's instances while loaded).
    public var instanceSet = "round-bench"
    /// Seconds of the round clock between two timed rounds: `serve`'s poll interval (it also
    /// runs a round on every queue wake-up, so its rounds come at least this often).
    public var roundSpacing = 1.0
    /// The pool's timeouts and intervals, as `serve` sets them from its configuration (`bench
    /// round` passes the defaults'): how often a round lists the cloud and probes the workers.
    /// Left as is, every round lists and probes.
    public var tune: @Sendable (inout WorkerPool.Settings) -> Void = { _ in }

    public init(waiting: Int, running: Int) {
        self.waiting = waiting
        self.running = running
    }

    public struct Result: Sendable {
        public var fillRounds: Int
        public var fullRound: RoundTimings
        public var steady: [RoundTimings]
        public var latencies: Latencies
        public var filled: Bool

        public var lines: [String] {
            let totals = steady.map(\.total).sorted()
            let median = totals.isEmpty ? .zero : totals[totals.count / 2]
            let rows = steady.map(\.rowsRead).sorted()
            let target = "target \(BenchTargets.roundMilliseconds.text(unit: " ms"))"
            return [
                "first round (full read of \(fullRound.rowsRead) active containers): \(fullRound.total.inMilliseconds) ms (\(target))",
                "  " + Self.split(fullRound),
                "change-feed rounds (\(steady.count), \(rows.first ?? 0)–\(rows.last ?? 0) changed rows each): "
                    + "median \(median.inMilliseconds) ms, max \((totals.last ?? .zero).inMilliseconds) ms (\(target))",
                "  median round: " + Self.split(steady.first { $0.total == median } ?? RoundTimings()),
                "submit → locked, \(latencies.milliseconds.count) containers one at a time: \(latencies.summary) "
                    + "(target p99 \(BenchTargets.roundLockP99.text(unit: " ms")))",
            ]
        }

        static func split(_ t: RoundTimings) -> String {
            "list \(t.list.inMilliseconds) ms, probe \(t.probe.inMilliseconds) ms, settle \(t.settle.inMilliseconds) ms, "
                + "read \(t.read.inMilliseconds) ms, reconcile \(t.reconcile.inMilliseconds) ms, "
                + "plan \(t.plan.inMilliseconds) ms, carry out \(t.carryOut.inMilliseconds) ms"
        }
    }

    /// `progress` gets a line after the submit, each round of the fill and each timed round.
    public func run(sim: any CloudDriver, store: any ContainerStore, logger: Logger, progress: (String) -> Void = { _ in }) async throws -> Result {
        let set = try await sim.openInstanceSet(id: instanceSet, config: #"{"seed": 1, "max_instances": \#(running + 10)}"#)
        do {
            let result = try await measure(set, capabilities: try await sim.capabilities(), store: store, logger: logger, progress: progress)
            await set.close()
            return result
        } catch {
            await set.close()
            throw error
        }
    }

    private func measure(
        _ set: any InstanceSet, capabilities: Capabilities, store: any ContainerStore, logger: Logger, progress: (String) -> Void
    ) async throws -> Result {
        var settings = WorkerPool.Settings(instanceSetID: instanceSet)
        settings.use(capabilities)
        tune(&settings)
        let type = InstanceType(name: "four", providerType: "sim.small", vcpus: 4, ram: 8 << 30, price: 0.10, quotaGroup: "sim")
        let executor = SimulatedExecutor(seed: 1, bootDelay: 20...60)
        let clock = VirtualClock(start: 1_000_000)
        let pool = WorkerPool(settings: settings, instanceSet: set, executor: executor, types: [type], logger: logger, clock: clock)
        let dispatcher = Dispatcher(
            id: "round-bench", store: store, pool: pool, types: [type],
            limits: Limits(maxInstances: running, maxConcurrentCreates: 1000, idleTimeout: 3600), logger: logger)

        try await submit(running, priority: 2, vcpus: 3, to: store)
        try await submit(waiting, priority: 1, vcpus: 2, to: store)
        progress("submitted \(running) containers to run and \(waiting) to wait")

        var rounds = 0
        while rounds < maxFillRounds {
            _ = await dispatcher.tickAndSettle(now: clock.now)
            rounds += 1
            clock.now += 30
            progress(
                "fill round \(rounds): \(await pool.instanceCount) instances, \(executor.startCount) started, "
                    + "round \(dispatcher.lastRoundTimings.total.inMilliseconds) ms")
            if executor.startCount >= running, await pool.instanceCount >= running { break }
        }
        let filled = executor.startCount >= running
        // Statuses of the whole backlog were written by the fill; one more round reads them back.
        _ = await dispatcher.tickAndSettle(now: clock.now)

        dispatcher.readWholeQueueNextRound()
        clock.now += 10
        _ = await dispatcher.tickAndSettle(now: clock.now)
        let full = dispatcher.lastRoundTimings
        progress("full round: \(full.total.inMilliseconds) ms: " + Result.split(full))

        var steady: [RoundTimings] = []
        var random = SeededRandom(seed: 7)
        for _ in 0..<steadyRounds {
            try await churn(store, random: &random)
            clock.now += roundSpacing
            _ = await dispatcher.tickAndSettle(now: clock.now)
            steady.append(dispatcher.lastRoundTimings)
            progress("change-feed round: \(steady.last!.total.inMilliseconds) ms, \(steady.last!.rowsRead) rows: " + Result.split(steady.last!))
        }
        progress("\(steady.count) change-feed rounds timed; now submit → lock, one container at a time")

        let latencies = try await submitToLock(dispatcher, store: store, clock: clock)
        return Result(fillRounds: rounds, fullRound: full, steady: steady, latencies: latencies, filled: filled)
    }

    private func submit(_ count: Int, priority: Int, vcpus: Int, to store: any ContainerStore) async throws {
        var submitted = 0
        while submitted < count {
            let n = min(5000, count - submitted)
            let spec = ContainerSpec(
                command: ["sim", "86400", "0"], priority: priority, runtimeConstraints: RuntimeConstraints(vcpus: vcpus, ram: 1 << 30))
            _ = try await store.submit(Array(repeating: spec, count: n))
            submitted += n
        }
    }

    /// `changes` writes to waiting containers: a third submits, a third cancels (so the depth
    /// stays put), a third priority changes.
    private func churn(_ store: any ContainerStore, random: inout SeededRandom) async throws {
        let third = max(1, changes / 3)
        let page = try await store.summaries(ContainerQuery(states: [.queued], limit: ContainerQuery.maxLimit))
        try await submit(third, priority: 1, vcpus: 2, to: store)
        let picked = page.items.shuffled(using: &random).prefix(2 * third)
        for (i, c) in picked.enumerated() {
            let event: Event = i < third ? .cancel(reason: "bench churn") : .setPriority(c.priority == 1 ? 2 : 1)
            _ = try await store.apply(event, to: c.uuid)
        }
    }

    /// Probes submitted one at a time while the dispatcher runs on wake-ups (its virtual clock
    /// follows the wall clock): each from the submit call to the moment it is seen locked (or
    /// later), polled every 2 ms.
    private func submitToLock(_ dispatcher: Dispatcher, store: any ContainerStore, clock: VirtualClock) async throws -> Latencies {
        let loop = Task {
            await DispatchLoop(dispatcher: VirtualClockRounds(dispatcher: dispatcher, clock: clock), pollInterval: 1)
                .run(wakeups: store.changes())
        }
        var latencies: [Double] = []
        var probe = ContainerSpec(command: ["sim", "86400", "0"], priority: 5, runtimeConstraints: RuntimeConstraints(vcpus: 1, ram: 256 << 20))
        for i in 0..<probes {
            probe.clientRequestID = "round-bench-probe-\(i)"
            let started = ContinuousClock.now
            let c = try await store.submit([probe])[0]
            _ = try await ContainerWait.until([.locked, .running, .complete, .cancelled], c.uuid, in: store)
            latencies.append((ContinuousClock.now - started).inSeconds * 1000)
        }
        loop.cancel()
        await loop.value
        return Latencies(latencies)
    }
}

/// A dispatcher on a virtual clock that follows the wall clock, for a `DispatchLoop`.
struct VirtualClockRounds: DispatchRounds {
    let dispatcher: Dispatcher
    let clock: VirtualClock
    let wallStart = Date().timeIntervalSince1970
    let virtualStart: Double

    init(dispatcher: Dispatcher, clock: VirtualClock) {
        self.dispatcher = dispatcher
        self.clock = clock
        virtualStart = clock.now
    }

    func runRound(now: Double) async {
        clock.now = virtualStart + (now - wallStart)
        await dispatcher.tickAndSettle(now: clock.now)
    }

    func roundSkipped() {}

    func placeArrivals(now: Double) async {
        await dispatcher.placeArrivals(now: virtualStart + (now - wallStart))
    }
}
