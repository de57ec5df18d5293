/// One bucket for every cloud call (create, list, destroy, set tags): up to `burst` calls at
/// once, then `rate` a second. A value on the caller's clock: `reserve` hands out the time a
/// call may go, in order, so the calls it paces never exceed the rate, whatever the clock.
///
///     var bucket = TokenBucket(rate: 10, burst: 20)
///     let at = bucket.reserve(now: clock.now)    // wait until `at`, then call the cloud
public struct TokenBucket: Sendable, Hashable {
    /// Tokens a second; 0 or less: no limit.
    public let rate: Double
    public let burst: Double
    private var tokens: Double
    /// When `tokens` was last brought up to date (the last grant, possibly in the future).
    private var updated: Double?

    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
        tokens = max(1, burst)
    }

    /// Takes a token; returns when the call may go (`now`, or later when the bucket is empty).
    /// Grants never go back in time, so concurrent callers are served in the order they asked.
    public mutating func reserve(now: Double) -> Double {
        guard rate > 0 else { return now }
        let at = max(now, updated ?? now)
        tokens = min(burst, tokens + (at - (updated ?? at)) * rate)
        if tokens >= 1 {
            tokens -= 1
            updated = at
            return at
        }
        let grant = at + (1 - tokens) / rate
        tokens = 0
        updated = grant
        return grant
    }
}
