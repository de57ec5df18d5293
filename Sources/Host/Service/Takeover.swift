import ExecutorPool
import Foundation
import Logging
import Queue
import Synchronization
import WorkerPool

/// A dispatcher in drain mode over a taken-over id: a VM dispatcher (`Dispatcher`) or an
/// executor backend's (`ExecutorDispatcher`), run round after round until it holds nothing.
protocol DrainingDispatcher: Sendable {
    func drainRound(now: Double) async
    /// Nothing of the id is left: no container held, no instance or job.
    var isDrained: Bool { get }
    /// Closes what the drain opened (the instance set, the backend).
    func close() async
}

extension Dispatcher: DrainingDispatcher {
    func drainRound(now: Double) async { await tick(now: now) }
    func close() async { await pool.close() }
}

extension ExecutorDispatcher: DrainingDispatcher {
    func drainRound(now: Double) async { await tick(now: now) }
    func close() async { await backend.close() }
}

/// A taken-over instance set (or executor backend's jobs), run to its end: a dispatcher in
/// drain mode under the dead member's id (and lease) adopts its instances or jobs and the
/// containers running there exactly as a restart would, gives back its stale locks (an attempt
/// counted), lets what runs finish, shuts each instance down once idle, and places nothing new.
/// When nothing is left the takeover is recorded as finished and the lease given back.
final class Takeover: Sendable {
    let member: String
    let dispatcher: any DrainingDispatcher
    let lease: any DispatcherLease
    let membership: any DispatcherMembership
    let pollInterval: Double
    let logger: Logger
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let done = Mutex(false)

    init(
        member: String, dispatcher: any DrainingDispatcher, lease: any DispatcherLease, membership: any DispatcherMembership,
        pollInterval: Double, logger: Logger
    ) {
        self.member = member
        self.dispatcher = dispatcher
        self.lease = lease
        self.membership = membership
        self.pollInterval = pollInterval
        self.logger = logger
    }

    var finished: Bool { done.withLock { $0 } }

    func start() {
        task.withLock { $0 = Task { await self.run() } }
    }

    private func run() async {
        while !Task.isCancelled {
            if lease.problem == nil {
                await dispatcher.drainRound(now: Date().timeIntervalSince1970)
                if dispatcher.isDrained { break }
            }
            try? await Task.sleep(for: .milliseconds(Int64(pollInterval * 1000)))
        }
        if Task.isCancelled { return }
        do {
            try await membership.finishTakeover(of: member)
            logger.notice("takeover finished: the adopted instance set is empty", metadata: ["member": "\(member)"])
        } catch {
            logger.warning("could not record the end of a takeover", metadata: ["member": "\(member)", "error": "\(error)"])
        }
        await dispatcher.close()
        await lease.release()
        done.withLock { $0 = true }
    }

    /// Ends the drain at a daemon's stop; the set stays claimed and the next start resumes it.
    func stop() async {
        let running = task.withLock { $0 }
        running?.cancel()
        await running?.value
        if !finished {
            await dispatcher.close()
            await lease.release()
        }
    }
}
