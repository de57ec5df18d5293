import Queue
import Scheduler

/// Before a round plans, the queue's view of each active container is held against what the
/// workers say runs where, and every disagreement is settled by one named rule. What is left
/// is the scheduling pass's input.
extension Dispatcher {
    /// What the workers report, read once per round (one actor hop for the whole queue).
    struct WorkerReport {
        /// Which worker runs each running container.
        var placements: [String: (worker: String, type: String, startedAt: Double)]
        /// Every worker has answered at least once since the last start: a container on none of
        /// them is on none at all.
        var allKnown: Bool
    }

    /// The scheduler's view of `containers`, after the rules below have acted on each.
    func reconcile(_ containers: [ActiveContainer], now: Double) async -> [ContainerDemand] {
        let report = WorkerReport(placements: await pool.placements(), allKnown: await pool.allWorkersKnown)
        // Started as arrivals since the read (after the placements above, or in them): the read
        // may still say Queued. They are running; this round leaves them be.
        let arrived = arrivals.withLock { $0.placedSinceRead.containers }
        var result: [ContainerDemand] = []
        result.reserveCapacity(containers.count)
        var running = Set<String>()  // on a worker: what `stopOrphans` must not stop
        for c in containers where !arrived.contains(c.demand.uuid) {
            // The two common cases (most of a deep queue, most of a big fleet) settle nothing.
            let state: ContainerDemand.State? =
                switch (c.state, report.placements[c.demand.uuid]) {
                case (.queued, nil): .queued
                case (.queued, .some): await stopSecondCopy(c, now: now)
                case (.running, let placement?): .running(worker: placement.worker)
                case (.running, nil): await requeueIfVanished(c, report)
                case (.locked, let placement?): await adoptUnrecordedStart(c, placement)
                case (.locked, nil): await keepOrGiveBackLock(c, report)
                case (.complete, _), (.cancelled, _): nil
                }
            guard let state else { continue }
            if case .running = state { running.insert(c.demand.uuid) }
            var demand = c.demand
            demand.state = state
            result.append(demand)
        }
        let lockedNow = Set(containers.lazy.filter { $0.state == .locked }.map(\.demand.uuid))
        lockedHere.withLock { $0.formIntersection(lockedNow.union(arrived)) }  // only what is still Locked (or just locked)
        await stopOrphans(keeping: running.union(arrived), report, now: now)
        return result
    }

    /// Queued, yet an old copy still runs somewhere (it was requeued while its worker was out of
    /// reach): stop that copy before the container runs twice; plan it once the copy is gone.
    private func stopSecondCopy(_ c: ActiveContainer, now: Double) async -> ContainerDemand.State? {
        await pool.stop(c.demand.uuid, now: now)
        return nil
    }

    /// Locked, and a worker runs it: started before a restart that lost the record of its start.
    /// The start is recorded now, so it is not started again.
    private func adoptUnrecordedStart(
        _ c: ActiveContainer, _ placement: (worker: String, type: String, startedAt: Double)
    ) async
        -> ContainerDemand.State
    {
        do {
            _ = try await store.apply(.start(by: id, instance: "\(placement.type) \(placement.worker)"), to: c.demand.uuid)
        } catch {
            logger.warning(
                "could not record the start of a container found running",
                metadata: [
                    "container": "\(c.demand.uuid)", "worker": "\(placement.worker)", "error": "\(error)",
                ])
        }
        return .running(worker: placement.worker)
    }

    /// Locked and on no worker. Locked by this process: it waits for its start. Locked before a
    /// restart: its start may have reached a worker not heard from yet, so it is left alone until
    /// every worker has answered (one that never answers is shut down after boot_timeout), then
    /// given back to the queue with an attempt counted.
    private func keepOrGiveBackLock(_ c: ActiveContainer, _ report: WorkerReport) async -> ContainerDemand.State? {
        if lockedHere.withLock({ $0.contains(c.demand.uuid) }) { return .locked }
        if report.allKnown {
            let when = drainOnly ? "by dispatcher \(id), which was taken over," : "before a dispatcher restart"
            await give(up: c.demand.uuid, "locked \(when) and found on no worker", requeue: true)
        }
        return nil
    }

    /// Running by the queue, on no worker: its instance went away with it. Requeued once every
    /// worker has answered — unless its result is waiting for the store.
    private func requeueIfVanished(_ c: ActiveContainer, _ report: WorkerReport) async -> ContainerDemand.State? {
        let waiting = unrecorded.withLock { $0.contains { $0.0.uuid == c.demand.uuid } }
        if report.allKnown && !waiting { await give(up: c.demand.uuid, "its instance no longer reports it running", requeue: true) }
        return nil
    }

    /// Running on a worker but no longer ours to run (cancelled, finished elsewhere, taken over):
    /// stopped. `running`: the containers the rules above left running on their worker (a
    /// container on a worker that stays in the pass's input is always one of them).
    private func stopOrphans(keeping running: Set<String>, _ report: WorkerReport, now: Double) async {
        for uuid in report.placements.keys.sorted() where !running.contains(uuid) {
            await pool.stop(uuid, now: now)
        }
    }
}
