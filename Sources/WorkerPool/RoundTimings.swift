/// Where a dispatcher's last round spent its time, on the monotonic clock (benchmarks print it;
/// it costs a few clock reads a round).
public struct RoundTimings: Sendable, Hashable {
    /// Applying a listing of the instance set (`WorkerPool.sync`; most rounds skip it), and
    /// listing it first unless the listing was sent off the round (`listOffRound`).
    public var list: Duration = .zero
    /// Applying the answers of the workers' probes (`WorkerPool.probeAll`; most rounds skip
    /// it), and probing them first unless the probes were sent off the round (`probeOffRound`).
    public var probe: Duration = .zero
    /// Resending creates and shutdowns, recording results and settling what ended.
    public var settle: Duration = .zero
    /// Reading the queue (a full read or the changes since the last round).
    public var read: Duration = .zero
    /// Holding the queue against the workers (`reconcile`).
    public var reconcile: Duration = .zero
    /// The scheduling pass.
    public var plan: Duration = .zero
    /// Carrying the plan out: queue writes, starts, cloud calls queued.
    public var carryOut: Duration = .zero
    /// The whole round.
    public var total: Duration = .zero
    /// Whether the round read the whole active queue (else only what changed).
    public var fullRead = false
    /// Containers the read returned: all active ones, or those changed.
    public var rowsRead = 0

    public init() {}
}
