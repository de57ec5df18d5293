import Synchronization
import WorkerPool

/// Simulated time: it moves only when told. A pool waiting for a cloud-call token moves it
/// forward to the token's time instead of sleeping, so a simulated day runs in seconds and a
/// round that had to wait for tokens took virtual time, as it would have on the wall clock.
///
///     let clock = VirtualClock(start: 1_000_000)
///     clock.now += 10
public final class VirtualClock: PoolClock {
    private let time: Mutex<Double>

    public init(start: Double) { time = Mutex(start) }

    public var now: Double {
        get { time.withLock { $0 } }
        set { time.withLock { $0 = newValue } }
    }

    public func sleep(until: Double) async {
        time.withLock { $0 = max($0, until) }
    }
}
