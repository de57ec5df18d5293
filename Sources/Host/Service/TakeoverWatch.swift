import Foundation
import Queue
import Synchronization

/// Stops the daemon as SIGTERM would when its lease is taken over, and remembers why (serve
/// then exits 1 with the reason).
final class TakeoverWatch: Sendable {
    private let why = Mutex<String?>(nil)
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(lease: (any DispatcherLease)?) {
        guard let lease else { return }
        task.withLock {
            $0 = Task { [self] in
                guard let reason = await lease.takenOver() else { return }
                why.withLock { $0 = reason }
                kill(getpid(), SIGTERM)  // the same graceful stop: requests drained, the loop ended
            }
        }
    }

    var reason: String? { why.withLock { $0 } }

    func cancel() { task.withLock { $0?.cancel() } }
}
