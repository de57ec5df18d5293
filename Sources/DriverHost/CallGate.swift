import Synchronization

/// Counts the calls inside one open plugin handle (an instance set, an executor backend) and
/// lets none start after close, so the handle is closed only when no call is using it.
///
///     guard gate.enter() else { return refusedAsClosed }   // on the pool thread, around the call
///     defer { gate.leave() }
///     ...
///     if await gate.closeAndDrain(within: timeout) { closeTheHandle() }
final class CallGate: Sendable {
    private struct Usage {
        var inFlight = 0
        var closed = false
    }
    private let usage = Mutex(Usage())

    /// Calls currently inside the plugin (including ones their callers stopped waiting for).
    var inFlight: Int { usage.withLock { $0.inFlight } }

    /// False once closed: the call must not start.
    func enter() -> Bool {
        usage.withLock { u in
            if u.closed { return false }
            u.inFlight += 1
            return true
        }
    }

    func leave() {
        usage.withLock { $0.inFlight -= 1 }
    }

    /// Closes the gate, then waits up to `timeout` for the calls in flight. True when the
    /// handle may be closed now: this was the first close and no call is left inside.
    func closeAndDrain(within timeout: Duration) async -> Bool? {
        let alreadyClosed = usage.withLock { u in
            defer { u.closed = true }
            return u.closed
        }
        if alreadyClosed { return nil }
        let deadline = ContinuousClock.now + timeout
        while inFlight > 0 {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
