import Foundation

/// The container state machine, as a pure function every store applies inside its own
/// transaction: the one place that decides whether an event is allowed.
///
///     | event     | from           | to                                 | who              |
///     |-----------|----------------|------------------------------------|------------------|
///     | lock      | Queued         | Locked                             | a dispatcher     |
///     | unlock    | Locked         | Queued (lock_count+1), or          | the lock holder  |
///     |           |                | Cancelled when attempts run out    |                  |
///     | requeue   | Running        | Queued (lock_count+1), or Cancelled| the lock holder  |
///     | interrupted | Locked or    | Queued (interruptions+1; lock_count| the lock holder  |
///     |           | Running        | unchanged: no attempt counted)     |                  |
///     | start     | Locked         | Running                            | the lock holder  |
///     | complete  | Running        | Complete                           | the lock holder  |
///     | cancel    | any non-final  | Cancelled                          | anyone allowed   |
///     | priority  | any non-final  | (same state)                       | anyone allowed   |
///
/// Complete and Cancelled are final: every event on them is an `invalidTransition`.
/// `requeue` extends the reference state machine (which only cancels): a runner that died
/// without a result gets its container back in the queue, within the same attempt budget.
/// `interrupted` is for runs the infrastructure ended (an executor backend's node_fail or
/// preempted): the container goes back without spending its budget; `interruptions` counts them
/// so the next run is a new attempt with a new idempotency token.
public enum Transition {
    /// The container after `event`, or the error that forbids it.
    /// `maxAttempts`: after this many unlocks/requeues the container is cancelled instead.
    public static func apply(_ event: Event, to container: Container, now: Date, maxAttempts: Int) throws(QueueError) -> Container {
        var c = container
        let state = c.state
        func invalid() -> QueueError { .invalidTransition(uuid: c.uuid, from: state, event: event.name) }
        func requireHolder(_ who: String) throws(QueueError) {
            if c.lockedBy != who { throw .notLockHolder(uuid: c.uuid, holder: c.lockedBy, caller: who) }
        }
        if state.isFinal { throw invalid() }
        switch event {
        case .lock(let by):
            guard state == .queued else { throw invalid() }
            c.state = .locked
            c.lockedBy = by
        case .unlock(let by, let reason), .requeue(let by, let reason):
            let from: ContainerState = if case .unlock = event { .locked } else { .running }
            guard state == from else { throw invalid() }
            try requireHolder(by)
            c.lockCount += 1
            c.lockedBy = nil
            c.startedAt = nil
            c.instance = nil
            if c.lockCount >= maxAttempts {
                c.state = .cancelled
                c.finishedAt = now
                c.runtimeStatus.error = "gave up after \(c.lockCount) dispatch attempts; last: \(reason)"
                c.runtimeStatus.schedulingStatus = nil
            } else {
                c.state = .queued
                c.runtimeStatus.warning = "attempt \(c.lockCount) of \(maxAttempts) ended: \(reason)"
            }
        case .interrupted(let by, let reason):
            guard state == .locked || state == .running else { throw invalid() }
            try requireHolder(by)
            c.interruptions = (c.interruptions ?? 0) + 1
            c.state = .queued
            c.lockedBy = nil
            c.startedAt = nil
            c.instance = nil
            c.runtimeStatus.warning = "interrupted, not counted as an attempt: \(reason)"
        case .start(let by, let instance):
            guard state == .locked else { throw invalid() }
            try requireHolder(by)
            c.state = .running
            c.startedAt = now
            c.instance = instance
            c.runtimeStatus.schedulingStatus = nil
        case .complete(let by, let exitCode, let log, let cost):
            guard state == .running else { throw invalid() }
            try requireHolder(by)
            c.state = .complete
            c.exitCode = exitCode
            c.finishedAt = now
            c.log = log ?? c.log
            c.cost = cost
        case .cancel(let reason, let log, let cost):
            c.state = .cancelled
            c.finishedAt = now
            c.runtimeStatus.error = reason
            c.runtimeStatus.schedulingStatus = nil
            c.log = log ?? c.log
            c.cost = cost ?? c.cost
        case .setPriority(let priority):
            guard (0...ContainerSpec.Limits.maxPriority).contains(priority) else {
                throw .validation([FieldProblem(field: "priority", rule: "must be from 0 to \(ContainerSpec.Limits.maxPriority)")])
            }
            c.priority = priority
        }
        c.modifiedAt = now
        return c
    }
}
