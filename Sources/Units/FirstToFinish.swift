import Synchronization

/// The answer of the first of `waits` to finish, without waiting for the others: they are
/// cancelled and left to end in their own time. A task group would wait for every child, and
/// some waits do not end on cancellation (a query or a close on a connection whose session the
/// server ended): under load one such wait kept a lease from ever noticing its loss. When the
/// caller is cancelled this returns `cancelled` at once.
///
///     let why = await firstToFinish([{ await closed() }, { await heartbeatsFail() }], cancelled: nil)
public func firstToFinish<T: Sendable>(_ waits: [@Sendable () async -> T], cancelled: T) async -> T {
    let race = Race<T>()
    let answer = await withTaskCancellationHandler {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            race.start(continuation, waits: waits)
        }
    } onCancel: {
        race.finish(with: cancelled)
    }
    race.cancelLosers()
    return answer
}

/// One `firstToFinish`: the continuation is resumed exactly once, by the first to claim it.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, Never>?
        var early: T?  // cancelled before the continuation existed
        var tasks: [Task<Void, Never>] = []
        var done = false
    }
    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, Never>, waits: [@Sendable () async -> T]) {
        let early: T? = state.withLock { s in
            if s.done { return s.early }
            s.continuation = continuation
            return nil
        }
        if let early { return continuation.resume(returning: early) }
        let tasks = waits.map { wait in Task { self.finish(with: await wait()) } }
        let over = state.withLock { s in
            s.tasks = tasks
            return s.done
        }
        if over { cancelLosers() }  // one finished before they were all stored
    }

    func finish(with value: T) {
        let continuation: CheckedContinuation<T, Never>? = state.withLock { s in
            guard !s.done else { return nil }
            s.done = true
            guard let c = s.continuation else {
                s.early = value
                return nil
            }
            s.continuation = nil
            return c
        }
        continuation?.resume(returning: value)
    }

    func cancelLosers() {
        for task in state.withLock({ $0.tasks }) { task.cancel() }
    }
}
