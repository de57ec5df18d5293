import Foundation
import Queue
import Scheduler

/// A plan carried out, in an order that never wastes a VM: cancels, stops and unlocks first,
/// then locks, then starts on ready workers, then creates (only if the locks were taken),
/// shutdowns and drains; the scheduling statuses that changed are written after
/// (`writeStatuses`). A step that fails is logged and left for the next round, which plans it
/// again from what the queue then says.
extension Dispatcher {
    func carryOut(_ plan: Plan, now: Double) async {
        for cancel in plan.cancels {
            await apply(.cancel(reason: "cannot run: \(cancel.reason)"), to: cancel.id, "could not cancel a container that cannot run")
        }
        for stop in plan.stops { await pool.stop(stop.id, now: now) }
        for unlock in plan.unlocks { await apply(.unlock(by: id, reason: unlock.reason), to: unlock.id, "could not unlock a container") }
        // Lock before create: if the queue refused the locks, instances planned for those
        // containers would only boot to be shut down, so none are created this round.
        let locked: Set<String>
        var lockFailed = false
        do {
            locked = Set(try await store.lock(plan.locks, by: id).map(\.uuid))
            lockedHere.withLock { $0.formUnion(locked) }
        } catch {
            locked = []
            lockFailed = !plan.locks.isEmpty
            logger.warning("could not lock containers; creating nothing this round", metadata: ["error": "\(error)"])
        }
        for start in plan.starts where !start.needsLock || locked.contains(start.uuid) {
            await self.start(start, now: now)
        }
        if !lockFailed { await pool.create(plan.creates, maxConcurrent: limits.maxConcurrentCreates, now: now) }
        await pool.shutdown(plan.shutdowns.map { ($0.id, $0.reason) }, now: now)
        for worker in plan.drains { await pool.setBehavior(worker, .drain) }
    }

    /// `changed`: the plan's statuses that differ from what the queue holds. A status lands only
    /// on a Queued or Locked container (a start clears it), so this needs no turn on the gate.
    func writeStatuses(_ changed: [String: String]) async {
        do { try await store.setSchedulingStatus(changed, by: id) } catch {
            logger.warning(
                "could not record scheduling statuses; the next round sets them",
                metadata: [
                    "containers": "\(changed.count)", "error": "\(error)",
                ])
        }
    }

    /// Starts a locked container on a ready worker and records the start; returns when it was
    /// submitted if it reached the worker. A start the worker refused gives the container back
    /// to the queue; a start the queue did not record leaves it Locked, and the next round finds
    /// it running and records it (`adoptUnrecordedStart`).
    @discardableResult
    func start(_ start: Plan.Start, now: Double) async -> Date? {
        let c: Container
        do { c = try await store.get(start.uuid) } catch {
            // Still Locked by us: the next round plans its start again.
            logger.warning("cannot read a container to start it", metadata: ["container": "\(start.uuid)", "error": "\(error)"])
            return nil
        }
        guard c.state == .locked, c.lockedBy == id else { return nil }  // cancelled meanwhile
        let launch = ContainerLaunch(
            uuid: c.uuid, command: c.command, image: c.containerImage, environment: c.environment,
            cwd: c.cwd, maxRunTime: c.schedulingParameters.maxRunTime, gpuDevices: start.gpuDevices)
        let type: String
        do {
            type = try await pool.start(launch, on: start.worker, now: now)
        } catch {
            logger.warning("start failed", metadata: ["container": "\(c.uuid)", "worker": "\(start.worker)", "error": "\(error)"])
            await apply(.unlock(by: id, reason: "could not start on \(start.worker): \(error)"), to: c.uuid, "could not unlock a container")
            return nil
        }
        await apply(.start(by: id, instance: "\(type) \(start.worker)"), to: c.uuid, "could not record a start; the next round does")
        return c.createdAt
    }

    /// Applies `event`; a refusal is logged with `failure` (the next round sees the queue as it is).
    private func apply(_ event: Event, to uuid: String, _ failure: String) async {
        do { _ = try await store.apply(event, to: uuid) } catch {
            logger.warning("\(failure)", metadata: ["container": "\(uuid)", "error": "\(error)"])
        }
    }
}
