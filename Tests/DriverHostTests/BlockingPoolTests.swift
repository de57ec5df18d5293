import Dispatch
import DriverHost
import Foundation
import Synchronization
import Testing

@Suite struct BlockingPoolTests {
    @Test(.timeLimit(.minutes(5)))
    func blockedCallsNeverStallTheCooperativePool() async throws {
        // More blocked calls than this machine has cores: were they on Swift's cooperative
        // pool (one thread per core), the task below could never run and this would hang.
        let pool = BlockingPool(name: "probe", threads: 8)
        let release = DispatchSemaphore(value: 0)
        let blocked = (0..<8).map { _ in Task { try await pool.run { release.wait() } } }
        for _ in 0..<3000 where pool.busy < 8 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(pool.busy == 8)
        #expect(await Task.detached { 40 + 2 }.value == 42)
        for _ in 0..<8 { release.signal() }
        for task in blocked { try await task.value }
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

    @Test(.timeLimit(.minutes(5)))
    func callsSentTogetherToAWarmPoolRunTogether() async throws {
        // An earlier call leaves a thread idle. The burst below must still get a thread per
        // call: the idle thread takes one of them, not all of them one after another.
        let pool = BlockingPool(name: "warm", threads: 8)
        try await pool.run {}
        for _ in 0..<30_000 where pool.idle < 1 { try await Task.sleep(for: .milliseconds(1)) }
        let inside = Shared(0)
        let allMet = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await pool.run {
                        // Each waits for the other seven to be inside too (bounded, so a pool
                        // that runs them one by one fails here instead of hanging).
                        inside.withLock { $0 += 1 }
                        for _ in 0..<5_000 where inside.withLock({ $0 }) < 8 { usleep(1_000) }
                        return inside.withLock { $0 } >= 8
                    }
                }
            }
            return try await group.reduce(true) { $0 && $1 }
        }
        #expect(allMet)
    }

    @Test func aTimedOutCallIsAbandonedAndItsThreadStaysBusy() async throws {
        let pool = BlockingPool(name: "timeouts", threads: 1)
        let release = DispatchSemaphore(value: 0)
        let hung = Task { try await pool.run(timeout: .seconds(1)) { release.wait() } }
        // Once the call is inside the pool (the pool's only thread is busy) ...
        for _ in 0..<3000 where pool.busy == 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(pool.busy == 1)
        // ... it times out for its caller, but its thread stays busy until it returns,
        await #expect(throws: BlockingPool.Failure.timedOut) { try await hung.value }
        #expect(pool.busy == 1)
        // so a call queued behind it times out waiting for a thread.
        await #expect(throws: BlockingPool.Failure.timedOut) {
            try await pool.run(timeout: .milliseconds(50)) { 1 }
        }
        // Once the hung call returns, the thread serves again.
        release.signal()
        #expect(try await pool.run(timeout: .seconds(10)) { 2 } == 2)
    }

    @Test func aCancelledWaiterNeverRunsItsWork() async throws {
        let pool = BlockingPool(name: "cancel", threads: 1)
        let ran = Shared(false)
        let blocking = Shared(false)
        let blocker = Task { try await pool.run { blocking.withLock { $0 = true }; _ = usleep(200_000) } }
        for _ in 0..<6000 where !blocking.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        let waiter = Task { try await pool.run { ran.withLock { $0 = true } } }
        waiter.cancel()
        await #expect(throws: BlockingPool.Failure.cancelled) { try await waiter.value }
        try await blocker.value
        // The pool runs in order on its one thread: once work queued after it has run, the
        // cancelled work would have run too (no sleep guessing how long that takes).
        #expect(try await pool.run { 1 } == 1)
        #expect(ran.withLock { $0 } == false)
    }
}

/// A value shared between tasks and pool threads.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
