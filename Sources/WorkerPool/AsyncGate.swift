import Synchronization

/// A lock for async code: one holder at a time, the others wait their turn (first come, first
/// served) without holding a thread. A round's carrying out and the placing of arrivals between
/// rounds (`Dispatcher.placeArrivals`) take it, so neither acts on room the other is taking.
final class AsyncGate: Sendable {
    private struct State {
        var held = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    func run<T>(_ body: () async -> T) async -> T {
        await enter()
        defer { leave() }
        return await body()
    }

    private func enter() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now: Bool = state.withLock { s in
                if s.held {
                    s.waiters.append(continuation)
                    return false
                }
                s.held = true
                return true
            }
            if now { continuation.resume() }
        }
    }

    /// Hands the gate to the first waiter, or opens it.
    private func leave() {
        let next: CheckedContinuation<Void, Never>? = state.withLock { s in
            if s.waiters.isEmpty {
                s.held = false
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
