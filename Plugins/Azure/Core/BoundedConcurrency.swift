import DriverSupport
import Foundation
import Synchronization

/// Runs `work` for indices 0..<count on at most `limit` threads at once and returns the
/// results in index order. Driver calls run on the host's blocking pool, so plain threads
/// (never Swift's cooperative pool) do the waiting.
///
///     let results = BoundedConcurrency.map(count: 3, limit: 2) { i in try? makeVM(i) }
enum BoundedConcurrency {
    static func map<T: Sendable>(count: Int, limit: Int, _ work: @escaping @Sendable (Int) -> T) -> [T] {
        guard count > 1, limit > 1 else { return (0..<count).map(work) }
        let results = Mutex<[Int: T]>([:])
        let next = Atomic<Int>(0)
        let group = DispatchGroup()
        for _ in 0..<min(limit, count) {
            group.enter()
            let thread = Thread {
                while true {
                    let i = next.add(1, ordering: .relaxed).oldValue
                    guard i < count else { break }
                    let r = work(i)
                    results.withLock { $0[i] = r }
                }
                group.leave()
            }
            thread.start()
        }
        group.wait()
        let all = results.withLock { $0 }
        return (0..<count).map { all[$0]! }
    }
}
