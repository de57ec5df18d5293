import DriverHost
import Foundation
import Synchronization
import Testing

@Suite struct BlockingPoolTests {
    @Test func runsWorkOnItsOwnNamedThreads() async throws {
        let pool = BlockingPool(name: "probe", threads: 2)
        let name = try await pool.run { Thread.current.name ?? "" }
        #expect(name.hasPrefix("probe-"))
    }

    @Test func neverRunsMoreThanItsThreadCountAtOnce() async throws {
        let pool = BlockingPool(name: "bounded", threads: 3)
        let active = Shared((now: 0, peak: 0))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    try await pool.run {
                        active.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                        usleep(20_000)
                        active.withLock { $0.now -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(active.withLock { $0.peak } == 3)
    }

    @Test func aTimedOutCallIsAbandonedAndItsThreadStaysBusy() async throws {
        let pool = BlockingPool(name: "timeouts", threads: 1)
        await #expect(throws: BlockingPool.Failure.timedOut) {
            try await pool.run(timeout: .milliseconds(50)) { _ = usleep(400_000) }
        }
        #expect(pool.busy == 1)
        // Queued behind the hung call, this one times out waiting for a thread.
        await #expect(throws: BlockingPool.Failure.timedOut) {
            try await pool.run(timeout: .milliseconds(50)) { 1 }
        }
        // Once the hung call returns, the thread serves again.
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await pool.run(timeout: .seconds(5)) { 2 } == 2)
    }

    @Test func aCancelledWaiterNeverRunsItsWork() async throws {
        let pool = BlockingPool(name: "cancel", threads: 1)
        let ran = Shared(false)
        let blocker = Task { try await pool.run { _ = usleep(200_000) } }
        try await Task.sleep(for: .milliseconds(20))
        let waiter = Task { try await pool.run { ran.withLock { $0 = true } } }
        waiter.cancel()
        await #expect(throws: BlockingPool.Failure.cancelled) { try await waiter.value }
        try await blocker.value
        try await Task.sleep(for: .milliseconds(50))
        #expect(ran.withLock { $0 } == false)
    }
}

/// A value shared between tasks and pool threads.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
