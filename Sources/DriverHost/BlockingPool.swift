import Dispatch
import Foundation
import Units

/// A bounded pool of dedicated OS threads for calls that block (driver operations, dlopen,
/// SSH I/O). Async code awaits the result without ever blocking a thread of Swift's
/// cooperative pool, which has only as many threads as cores.
///
///     let pool = BlockingPool(name: "drivers", threads: 8)
///     let reply = try await pool.run(timeout: .seconds(30)) { blockingDriverCall() }
///
/// A call that outlives its timeout is abandoned, not killed: its thread stays busy until the
/// call returns, and its result is dropped. Time spent waiting for a free thread counts
/// against the timeout, so a pool full of hung calls degrades into timeouts, never a hang.
public final class BlockingPool: @unchecked Sendable {
    public enum Failure: Error, Sendable, Equatable {
        /// The call did not finish within its timeout (it may still be running).
        case timedOut
        /// The awaiting task was cancelled before the call started.
        case cancelled
    }

    public let name: String
    public let maxThreads: Int

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var queueHead = 0
    private var threadCount = 0
    private var idleThreads = 0
    private var busyThreads = 0

    public init(name: String, threads: Int) {
        precondition(threads > 0, "a pool needs at least one thread")
        self.name = name
        self.maxThreads = threads
    }

    /// Threads currently inside a call (including abandoned ones).
    public var busy: Int {
        condition.lock()
        defer { condition.unlock() }
        return busyThreads
    }

    /// Threads waiting for work.
    public var idle: Int {
        condition.lock()
        defer { condition.unlock() }
        return idleThreads
    }

    /// Runs `work` on a pool thread and returns its result.
    public func run<T: Sendable>(timeout: Duration? = nil, _ work: @escaping @Sendable () -> T) async throws(Failure) -> T {
        let outcome = OneShot<T>()
        let job = Job(outcome: outcome, work: work)
        let result: Result<T, Failure> = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, Failure>, Never>) in
                outcome.install(continuation)
                if let timeout {
                    let millis = Int(clamping: max(0, timeout.inMilliseconds))
                    DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(millis)) {
                        job.abandon(with: .timedOut)
                    }
                }
                enqueue(job)
            }
        } onCancel: {
            job.cancelIfNotStarted()
        }
        return try result.get()
    }

    private func enqueue(_ job: Job) {
        condition.lock()
        queue.append(job)
        // A thread idle now may already be woken for an earlier job: spawn while the jobs
        // waiting outnumber the idle threads, not only when none is idle.
        let spawn = queue.count - queueHead > idleThreads && threadCount < maxThreads
        if spawn { threadCount += 1 }
        let threadName = "\(name)-\(threadCount)"
        condition.signal()
        condition.unlock()
        if spawn {
            // Named from inside: on Linux a name set before start() is not applied.
            Thread { [self] in
                Thread.current.name = threadName
                workerLoop()
            }.start()
        }
    }

    private func workerLoop() {
        while true {
            condition.lock()
            while queueHead == queue.count {
                idleThreads += 1
                condition.wait()
                idleThreads -= 1
            }
            let job = queue[queueHead]
            queueHead += 1
            if queueHead > 64 && queueHead * 2 > queue.count {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            busyThreads += 1
            condition.unlock()

            job.execute()

            condition.lock()
            busyThreads -= 1
            condition.unlock()
        }
    }
}

/// One queued call: runs at most once, and delivers exactly one outcome.
private final class Job: @unchecked Sendable {
    private let body: @Sendable () -> Void
    private let abandonBody: @Sendable (BlockingPool.Failure, _ onlyIfNotStarted: Bool) -> Void

    init<T: Sendable>(outcome: OneShot<T>, work: @escaping @Sendable () -> T) {
        body = {
            guard outcome.start() else { return }
            let value = work()
            outcome.deliver(.success(value))
        }
        abandonBody = { failure, onlyIfNotStarted in
            outcome.fail(failure, onlyIfNotStarted: onlyIfNotStarted)
        }
    }

    func execute() { body() }
    func abandon(with failure: BlockingPool.Failure) { abandonBody(failure, false) }
    func cancelIfNotStarted() { abandonBody(.cancelled, true) }
}

/// Resumes a continuation once, whichever of completion, timeout or cancellation comes first.
private final class OneShot<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Result<T, BlockingPool.Failure>, Never>?
    private var pending: Result<T, BlockingPool.Failure>?
    private var started = false
    private var finished = false

    func install(_ c: CheckedContinuation<Result<T, BlockingPool.Failure>, Never>) {
        lock.lock()
        if let pending {
            lock.unlock()
            c.resume(returning: pending)
            return
        }
        continuation = c
        lock.unlock()
    }

    /// Marks the call started; false when it was already abandoned (then it must not run).
    func start() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if finished { return false }
        started = true
        return true
    }

    func deliver(_ result: Result<T, BlockingPool.Failure>) {
        finish(result, unlessStarted: false)
    }

    func fail(_ failure: BlockingPool.Failure, onlyIfNotStarted: Bool) {
        finish(.failure(failure), unlessStarted: onlyIfNotStarted)
    }

    /// Delivers `result` unless an outcome was delivered already, or (with `unlessStarted`)
    /// the call has started; decided under one lock so cancellation never races a start.
    private func finish(_ result: Result<T, BlockingPool.Failure>, unlessStarted: Bool) {
        lock.lock()
        if finished || (unlessStarted && started) {
            lock.unlock()
            return
        }
        finished = true
        let c = continuation
        continuation = nil
        if c == nil { pending = result }
        lock.unlock()
        c?.resume(returning: result)
    }
}
