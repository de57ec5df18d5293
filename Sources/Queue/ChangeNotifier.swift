import Synchronization

/// Fans a wake-up out to every `changes()` stream.
public final class ChangeNotifier: Sendable {
    private let continuations = Mutex<[UInt64: AsyncStream<Void>.Continuation]>([:])
    private let counter = Mutex<UInt64>(0)

    public init() {}

    public func stream() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = counter.withLock {
            $0 += 1; return $0
        }
        continuations.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in self?.continuations.withLock { _ = $0.removeValue(forKey: id) } }
        return stream
    }

    public func notify() {
        for c in continuations.withLock({ Array($0.values) }) { c.yield() }
    }

    public func finish() {
        for c in continuations.withLock({ Array($0.values) }) { c.finish() }
    }
}
