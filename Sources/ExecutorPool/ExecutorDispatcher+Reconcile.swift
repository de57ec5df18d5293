import DriverHost
import Queue
import Scheduler

/// Before a round plans, the queue's view of each active container is held against the jobs the
/// backend lists for this dispatcher, and every disagreement is settled by one named rule. A
/// job belongs to one run of a container: its token is the run's (`JobIdentity`), so a job of an
/// earlier run is never taken for the current one.
extension ExecutorDispatcher {
    struct Reconciled {
        /// The pass's input: waiting containers, and those with a live job (as `.running`).
        var demands: [ContainerDemand] = []
        /// Why containers whose job is pending (or being stopped) wait.
        var statuses: [String: String] = [:]
        /// Ended jobs to forget: recorded on their container, or of no container of ours.
        var releases: [String] = []
    }

    func reconcile(_ containers: [ContainerSummary], jobs: [BackendJob], now: Double) async -> Reconciled {
        let byContainer = Dictionary(grouping: jobs) { job in
            job.tags[tags.containerKey] ?? JobIdentity.container(ofToken: job.idempotencyToken) ?? ""
        }
        var out = Reconciled()
        for c in containers {
            let its = byContainer[c.uuid] ?? []
            // Queued: its run ended, so every job of it is an earlier run's. Held: its token says which is current.
            let token: String
            if c.state == .queued {
                token = ""
            } else if let current = await runToken(of: c.uuid) {
                token = current
            } else {
                continue  // judged next round; its jobs are left as they are
            }
            for job in its where job.idempotencyToken != token { await retire(job, "it belongs to an earlier run of \(c.uuid)", &out) }
            if c.state == .queued, let old = its.first(where: { $0.state != .ended }) {
                // Requeued while its job still runs: planned once that copy is gone, never two at once.
                out.statuses[c.uuid] = "waiting for job \(old.id) of its earlier run to stop"
                continue
            }
            let current = its.filter { $0.idempotencyToken == token }
            if let state = await settle(c, live: current.first { $0.state != .ended }, ended: current.first { $0.state == .ended }, &out) {
                out.demands.append(Self.demand(of: c, state: state))
            }
        }
        let active = Set(containers.map(\.uuid))
        for (uuid, orphans) in byContainer where !active.contains(uuid) {
            for job in orphans { await retire(job, "its container \(uuid) is no longer this dispatcher's to run", &out) }
        }
        await release(out.releases)
        let live = Set(jobs.lazy.filter { $0.state != .ended }.map(\.id))
        cancelsSent.withLock { $0.formIntersection(live) }
        let lockedNow = Set(containers.lazy.filter { $0.state == .locked }.map(\.uuid))
        lockedHere.withLock { $0.formIntersection(lockedNow) }
        let held = Set(containers.lazy.filter { $0.state != .queued }.map(\.uuid))
        runTokens.withLock { tokens in tokens = tokens.filter { held.contains($0.key) } }
        return out
    }

    /// One active container and its current run's job, if any: the state the pass sees, or nil
    /// when the container leaves this round's plan (recorded, requeued, given back).
    private func settle(_ c: ContainerSummary, live: BackendJob?, ended: BackendJob?, _ out: inout Reconciled) async -> ContainerDemand.State? {
        if c.state == .queued { return .queued }  // any job of it was an earlier run's, retired above
        if let job = live {
            lockedHere.withLock { _ = $0.remove(c.uuid) }
            if c.priority == 0 {
                await stop(job, "its container's priority was set to 0")
                out.statuses[c.uuid] = "stopping job \(job.id): priority set to 0"
            } else if job.state == .running, c.state == .locked {
                await apply(.start(by: id, instance: Self.instance(of: job)), to: c.uuid, "could not record a job's start; the next round does")
            } else if job.state == .pending {
                let said = job.message.isEmpty ? "" : ": \(job.message)"
                out.statuses[c.uuid] = "submitted as job \(job.id) to partition \(job.partition); pending in the executor's queue\(said)"
            }
            return .running(worker: job.id)
        }
        if let job = ended {
            if await record(job, of: c) { out.releases.append(job.id) }
            return nil
        }
        if c.state == .running {
            await apply(.requeue(by: id, reason: "its job is no longer known to the executor backend"), to: c.uuid, "could not requeue")
            return nil
        }
        // Locked, no job: this process's submit is retried with the same token; a lock from
        // before a restart whose job does not exist is given back (an attempt counted).
        if lockedHere.withLock({ $0.contains(c.uuid) }) { return .locked }
        let when = drainOnly ? "by dispatcher \(id), which was taken over," : "before a dispatcher restart"
        await apply(
            .unlock(by: id, reason: "locked \(when) and no job of it found in the executor backend"), to: c.uuid,
            "could not give back a stale lock")
        return nil
    }

    /// An ended job of the current run: its outcome recorded on the container; true once it is
    /// (then the job may be released). A store that cannot take it now leaves the job listed for
    /// the next round.
    private func record(_ job: BackendJob, of c: ContainerSummary) async -> Bool {
        let recorded: Bool
        switch JobOutcome.of(job, stopping: c.priority == 0) {
        case .result(let exitCode):
            if c.state == .locked {  // started and ended between two rounds
                guard await apply(.start(by: id, instance: Self.instance(of: job)), to: c.uuid, "could not record a start") else { return false }
            }
            let log = await logTail(of: job)
            recorded = await apply(.complete(by: id, exitCode: exitCode, log: log, cost: 0), to: c.uuid, "could not record a result")
        case .end(let reason):
            let log = await logTail(of: job)
            recorded = await apply(.cancel(reason: reason, log: log), to: c.uuid, "could not record how a job ended")
        case .retry(let reason):
            let event: Event = c.state == .running ? .requeue(by: id, reason: reason) : .unlock(by: id, reason: reason)
            recorded = await apply(event, to: c.uuid, "could not requeue")
        case .interrupted(let reason):
            recorded = await apply(.interrupted(by: id, reason: reason), to: c.uuid, "could not requeue an interrupted container")
        }
        return recorded
    }

    /// A job no container of ours needs: stopped if it runs, forgotten if it ended.
    private func retire(_ job: BackendJob, _ why: String, _ out: inout Reconciled) async {
        if job.state == .ended { out.releases.append(job.id) } else { await stop(job, why) }
    }

    /// Asks the backend to stop a job (once; TERM, KILL after the grace).
    func stop(_ job: BackendJob, _ why: String) async {
        guard cancelsSent.withLock({ $0.insert(job.id).inserted }) else { return }
        logger.notice("cancelling a job", metadata: ["job": "\(job.id)", "why": "\(why)"])
        let grace = settings.cancelGrace
        do { try await call("cancel") { [backend] () async throws(DriverError) in try await backend.cancel(jobID: job.id, grace: grace) } } catch {
            _ = cancelsSent.withLock { $0.remove(job.id) }  // asked again next round
            logger.warning("could not cancel a job", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
    }

    /// Forgets ended jobs, in as few calls as the ABI allows (10,000 ids each): a round in which
    /// a thousand jobs ended costs one call, not a thousand.
    private func release(_ ids: [String]) async {
        for start in stride(from: 0, to: ids.count, by: 10_000) {
            let batch = Array(ids[start..<min(ids.count, start + 10_000)])
            do { try await call("release") { [backend] () async throws(DriverError) in try await backend.release(jobIDs: batch) } } catch {
                logger.warning("could not release ended jobs; the next round does", metadata: ["jobs": "\(batch.count)", "error": "\(error)"])
            }
        }
    }

    /// The end of a job's output, when the backend keeps it.
    private func logTail(of job: BackendJob) async -> String? {
        if hasLogTail.withLock({ $0 == false }) { return nil }
        let bytes = settings.logTailBytes
        do {
            return try await call("log_tail") { [backend] () async throws(DriverError) in try await backend.logTail(jobID: job.id, maxBytes: bytes) }
        } catch {
            if error.errorClass == .unsupported { hasLogTail.withLock { $0 = false } }
            return nil
        }
    }

    /// Where a job runs, as the container's `instance`.
    static func instance(of job: BackendJob) -> String { job.where.isEmpty ? "\(job.partition) \(job.id)" : job.where }

    /// Applies `event`; a refusal is logged with `failure`. Returns whether the container is
    /// settled (the event applied, or the container had already ended).
    @discardableResult
    func apply(_ event: Event, to uuid: String, _ failure: String) async -> Bool {
        switch event {
        case .start, .setPriority, .lock: break
        default: runTokens.withLock { _ = $0.removeValue(forKey: uuid) }  // a new run, or none: read again
        }
        do {
            _ = try await store.apply(event, to: uuid)
            return true
        } catch {
            logger.warning("\(failure)", metadata: ["container": "\(uuid)", "error": "\(error)"])
            if case .invalidTransition(_, let from, _) = error, from.isFinal { return true }
            return false
        }
    }
}
