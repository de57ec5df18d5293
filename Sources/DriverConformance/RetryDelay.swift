/// How long the kit waits before repeating a call the driver refused for now (`rate_limit`,
/// `transient`): the driver's retry-after when it gives one, otherwise exponential from
/// `initial`, never more than `cap`.
///
///     let backoff = RetryDelay(initial: .seconds(1), cap: .seconds(30))
///     backoff.delay(attempt: 0, hint: nil)                 // 1 s
///     backoff.delay(attempt: 3, hint: nil)                 // 8 s
///     backoff.delay(attempt: 3, hint: .milliseconds(250))  // 250 ms: the driver knows best
public struct RetryDelay: Sendable, Hashable {
    public var initial: Duration
    public var cap: Duration

    public init(initial: Duration, cap: Duration) {
        self.initial = initial
        self.cap = cap
    }

    /// The wait before retry number `attempt + 1` (attempt 0: the first retry).
    public func delay(attempt: Int, hint: Duration?) -> Duration {
        if let hint { return min(hint, cap) }
        var delay = initial
        for _ in 0..<min(attempt, 32) where delay < cap { delay *= 2 }
        return min(delay, cap)
    }
}
