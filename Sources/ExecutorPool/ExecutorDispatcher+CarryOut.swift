import DriverHost
import Queue
import WorkerPool
import Scheduler

/// A plan carried out: cancels of containers nothing can run, then locks, then submits (only of
/// what this dispatcher holds), and last the scheduling statuses that changed.
extension ExecutorDispatcher {
    func carryOut(_ plan: ExecutorPass.Plan, statuses: [String: String], containers: [ContainerSummary]) async {
        for cancel in plan.cancels {
            await apply(.cancel(reason: "cannot run: \(cancel.reason)"), to: cancel.id, "could not cancel a container that cannot run")
        }
        var statuses = statuses
        let toLock = plan.submits.filter(\.needsLock).map(\.uuid)
        var locked: Set<String> = []
        if !toLock.isEmpty {
            do {
                locked = Set(try await store.lock(toLock, by: id).map(\.uuid))
                lockedHere.withLock { $0.formUnion(locked) }
            } catch {
                logger.warning("could not lock containers; submitting none of them this round", metadata: ["error": "\(error)"])
            }
        }
        for submit in plan.submits where !submit.needsLock || locked.contains(submit.uuid) {
            if let status = await self.submit(submit) { statuses[submit.uuid] = status }
        }
        await recordStatuses(statuses, containers: containers)
    }

    /// Submits one locked container; returns its status. A capacity or transient error keeps the
    /// lock (the next round submits again with the same token, so a lost answer makes no second
    /// job); any other error gives the container back with the reason (an attempt counted).
    private func submit(_ planned: ExecutorPass.Submit) async -> String? {
        let c: Container
        do { c = try await store.get(planned.uuid) } catch {
            logger.warning("cannot read a container to submit it", metadata: ["container": "\(planned.uuid)", "error": "\(error)"])
            return nil
        }
        guard c.state == .locked, c.lockedBy == id else { return nil }  // cancelled meanwhile
        runTokens.withLock { $0[c.uuid] = JobIdentity.token(of: c) }
        let submission = JobSubmission(
            container: JobContainer(
                uuid: c.uuid, command: c.command, image: c.containerImage ?? "", environment: c.environment, cwd: c.cwd,
                vcpus: c.runtimeConstraints.vcpus, ram: c.runtimeConstraints.ram, maxRunTime: c.schedulingParameters.maxRunTime),
            partition: planned.partition, idempotencyToken: JobIdentity.token(of: c), tags: tags.tags(dispatcher: id, container: c.uuid))
        do {
            let job = try await call("submit") { [backend] () async throws(DriverError) in try await backend.submit(submission) }
            settings.metrics?.submitted("ok")
            if job.state == .running {
                await apply(.start(by: id, instance: Self.instance(of: job)), to: c.uuid, "could not record a job's start; the next round does")
                return nil
            }
            return "submitted as job \(job.id) to partition \(job.partition)"
        } catch {
            settings.metrics?.submitted(error.errorClass.name)
            switch error.errorClass {
            case .capacityType, .capacityFamily, .capacityGlobal, .quota:
                return "waiting for room: partition \(planned.partition) cannot take it now (\(error.message))"
            case .rateLimit, .transient:
                logger.notice("submit not answered; retried with the same token", metadata: ["container": "\(c.uuid)", "error": "\(error)"])
                return "submit to partition \(planned.partition) not answered (\(error.errorClass.name)); retried next round"
            default:
                lockedHere.withLock { _ = $0.remove(c.uuid) }
                await apply(
                    .unlock(by: id, reason: "could not submit to partition \(planned.partition): \(error)"), to: c.uuid,
                    "could not unlock a container")
                return nil
            }
        }
    }

    /// Only statuses that differ from what the queue holds (each change is a write).
    func recordStatuses(_ statuses: [String: String], containers: [ContainerSummary]) async {
        let changed = statusesToWrite(statuses, over: containers)
        guard !changed.isEmpty else { return }
        do { try await store.setSchedulingStatus(changed, by: id) } catch {
            logger.warning("could not record scheduling statuses; the next round sets them", metadata: ["error": "\(error)"])
        }
    }
}
