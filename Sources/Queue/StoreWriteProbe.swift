import Foundation
import Synchronization

/// Whether the store takes writes, found by trying one every few seconds. A store can answer
/// reads while every write fails (disk full, a read-only remount, a lost primary); /_health
/// reports that from here, without waiting on the store itself.
///
///     let probe = StoreWriteProbe(store: store)
///     let watching = Task { await probe.run(every: .seconds(5)) }
///     probe.status   // .ok, or .failing(since:reason:)
public final class StoreWriteProbe: Sendable {
    public enum Status: Sendable, Hashable {
        case unknown
        case ok
        case failing(since: Date, reason: String)
    }

    private let store: any ContainerStore
    private let state = Mutex(Status.unknown)

    public init(store: any ContainerStore) {
        self.store = store
    }

    public var status: Status { state.withLock { $0 } }

    /// Probes now, then every `interval`, until cancelled.
    public func run(every interval: Duration) async {
        while !Task.isCancelled {
            await probeOnce()
            try? await Task.sleep(for: interval)
        }
    }

    /// One write; the status says how it went. A failure keeps the time it began.
    public func probeOnce() async {
        let outcome: Status
        do {
            try await store.probeWrite()
            outcome = .ok
        } catch {
            outcome = .failing(since: Date(), reason: error.description)
        }
        state.withLock { current in
            if case .failing(let since, _) = current, case .failing(_, let reason) = outcome {
                current = .failing(since: since, reason: reason)  // still failing: since when it began
            } else {
                current = outcome
            }
        }
    }
}
