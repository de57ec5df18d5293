import DriverHost
import Synchronization

/// A backend call given up on after `timeout`: the round goes on and the call's answer, when it
/// comes, is dropped (a backend call cannot be interrupted; what it did is learned from `list`).
enum BoundedCall {
    static func run<T: Sendable>(
        _ timeout: Duration, backend: String, operation: String,
        _ call: @escaping @Sendable () async throws(DriverError) -> T
    ) async throws(DriverError) -> T {
        let once = Once<Result<T, DriverError>>()
        let worker = Task {
            do throws(DriverError) { once.resume(.success(try await call())) } catch { once.resume(.failure(error)) }
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            let message = "no answer within \(seconds)s (executor.call_timeout)"
            once.resume(.failure(DriverError(.transient, message, driver: backend, operation: operation)))
        }
        let result: Result<T, DriverError> = await withCheckedContinuation { once.set($0) }
        timer.cancel()
        _ = worker  // left to finish: its answer is dropped
        return try result.get()
    }
}

/// A continuation resumed by the first of several racers; later ones are ignored.
private final class Once<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, Never>?, early: T?, done: Bool)>((nil, nil, false))

    func set(_ continuation: CheckedContinuation<T, Never>) {
        let early: T? = state.withLock { s in
            if let e = s.early {
                s.early = nil
                return e
            }
            s.continuation = continuation
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    func resume(_ value: T) {
        let continuation: CheckedContinuation<T, Never>? = state.withLock { s in
            if s.done { return nil }
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
}
