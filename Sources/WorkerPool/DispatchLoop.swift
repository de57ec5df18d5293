import Foundation
import Queue
import Synchronization

/// Runs a dispatcher on the wall clock: a round whenever the queue changes, and at least every
/// `pollInterval` seconds (workers finish and clouds change without telling the queue). Rounds
/// never overlap; wake-ups that arrive during a round are folded into one more round. Beside
/// the rounds, each wake-up also places what arrived on room the last round left free
/// (`placeArrivals`), so a submit need not wait for a round in progress. While the daemon does
/// not hold the lease on its dispatcher id, neither runs: another daemon may be acting on the
/// same instances and containers.
///
///     let loop = DispatchLoop(dispatcher: dispatcher, pollInterval: 1, lease: lease)
///     let task = Task { await loop.run(wakeups: store.changes()) }
///     task.cancel()    // stops after the round in progress; instances are left for the next start
public struct DispatchLoop: Sendable {
    public let dispatcher: any DispatchRounds
    public let pollInterval: Double
    public let lease: (any DispatcherLease)?

    public init(dispatcher: any DispatchRounds, pollInterval: Double, lease: (any DispatcherLease)? = nil) {
        self.dispatcher = dispatcher
        self.pollInterval = pollInterval
        self.lease = lease
    }

    public func run(wakeups: AsyncStream<Void>) async {
        let signal = WakeSignal()
        let arrived = WakeSignal()
        let listener = Task {
            for await _ in wakeups {
                signal.fire()
                arrived.fire()
            }
        }
        defer { listener.cancel() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await rounds(signal) }
            group.addTask { await placeArrivals(arrived) }
        }
    }

    private func placeArrivals(_ arrived: WakeSignal) async {
        while !Task.isCancelled {
            await arrived.wait(timeout: pollInterval)
            if lease?.problem == nil && !Task.isCancelled { await dispatcher.placeArrivals(now: Date().timeIntervalSince1970) }
        }
    }

    private func rounds(_ signal: WakeSignal) async {
        while !Task.isCancelled {
            if lease?.problem != nil {
                dispatcher.roundSkipped()  // the lease logs its loss and its return
            } else {
                await dispatcher.runRound(now: Date().timeIntervalSince1970)
            }
            await signal.wait(timeout: pollInterval)
        }
    }
}

/// What a `DispatchLoop` drives: a VM pool's `Dispatcher`, or an executor backend's.
public protocol DispatchRounds: Sendable {
    /// One round at `now` (seconds since 1970), its calls sent.
    func runRound(now: Double) async
    /// A round that did not run (the lease on the dispatcher id is lost).
    func roundSkipped()
    /// Between rounds, on a wake-up: start what arrived where room is known to be free.
    func placeArrivals(now: Double) async
}

extension DispatchRounds {
    public func placeArrivals(now: Double) async {}
}

extension Dispatcher: DispatchRounds {
    public func runRound(now: Double) async { await tick(now: now) }
    public func roundSkipped() { metrics?.roundSkipped() }
}

/// A wake-up flag one waiter sleeps on, with a timeout; fires that come while nobody waits are
/// remembered (once).
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
    }
    private let state = Mutex(State())

    func fire() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { s in
            guard let w = s.waiter else {
                s.pending = true
                return nil
            }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }

    func wait(timeout: Double) async {
        let generation: Int? = state.withLock { s in
            if s.pending {
                s.pending = false
                return nil
            }
            s.generation += 1
            return s.generation
        }
        guard let generation else { return }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
            self?.expire(generation)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = state.withLock { s in
                    if s.pending || s.generation != generation {
                        s.pending = false
                        return true
                    }
                    s.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.fire()
        }
        timer.cancel()
    }

    /// The timeout of wait number `generation` passed.
    private func expire(_ generation: Int) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { s in
            guard s.generation == generation else { return nil }
            guard let w = s.waiter else {
                s.generation += 1  // not waiting yet: the wait sees the new generation and returns
                return nil
            }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }
}
