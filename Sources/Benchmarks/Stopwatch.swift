import Units

/// Times work on the monotonic clock.
public enum Stopwatch {
    /// Seconds `body` took.
    public static func seconds(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        return (ContinuousClock.now - start).inSeconds
    }
}
