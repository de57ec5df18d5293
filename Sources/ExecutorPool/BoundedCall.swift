import DriverHost
import Units

/// A backend call given up on after `timeout`: the round goes on and the call's answer, when it
/// comes, is dropped (a backend call cannot be interrupted; what it did is learned from `list`).
enum BoundedCall {
    static func run<T: Sendable>(
        _ timeout: Duration, backend: String, operation: String,
        _ call: @escaping @Sendable () async throws(DriverError) -> T
    ) async throws(DriverError) -> T {
        let answered: @Sendable () async -> Result<T, DriverError> = {
            do throws(DriverError) { return .success(try await call()) } catch { return .failure(error) }
        }
        let silent: @Sendable () async -> Result<T, DriverError> = {
            // Cancelled only when the call answered first, and then this result is never read.
            try? await Task.sleep(for: timeout)
            let message = "no answer within \(timeout.inSeconds)s (executor.call_timeout)"
            return .failure(DriverError(.transient, message, driver: backend, operation: operation))
        }
        let stopped = DriverError(.transient, "the round was stopped before the backend answered", driver: backend, operation: operation)
        return try await firstToFinish([answered, silent], cancelled: .failure(stopped)).get()
    }
}
