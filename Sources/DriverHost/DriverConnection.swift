import CoreMetrics
import Foundation
import Logging

/// The daemon's end of one driver process: starts it (again, with back-off, after it dies),
/// matches replies to calls, fails the calls in flight when it dies, and opens its instance
/// sets again in the new process. `ProcessDriver` is its public face.
actor DriverConnection {
    let path: String
    let executable: String
    let callTimeout: Duration
    let restart: ProcessDriver.RestartPolicy
    let logger: Logger

    private var child: HelperProcess?
    private var generation = 0
    private var starting: Task<Result<DriverInfo, StartFailure>, Never>?
    private var helloWaiter: CheckedContinuation<Result<DriverInfo, StartFailure>, Never>?
    private var info: DriverInfo?
    private var pending: [UInt64: CheckedContinuation<DriverProcessWire.Reply?, Never>] = [:]
    private var timers: [UInt64: Task<Void, Never>] = [:]
    private var nextID: UInt64 = 1
    /// Open instance sets and their configs, opened again in each new process.
    private var openSets: [(id: String, config: String)] = []
    private var startedAt = ContinuousClock.now
    private var crashesInARow = 0
    private var notBefore = ContinuousClock.now
    private var stopped = false
    private(set) var crashes = 0
    private var lastCrash: String?
    private let crashCounter: Counter

    init(path: String, executable: String, callTimeout: Duration, restart: ProcessDriver.RestartPolicy, logger: Logger) {
        self.path = path
        self.executable = executable
        self.callTimeout = callTimeout
        self.restart = restart
        self.logger = logger
        crashCounter = Counter(label: "cloud_dispatch_driver_process_crashes_total", dimensions: [("file", (path as NSString).lastPathComponent)])
        // A write to the pipe of a process that just died must fail with EPIPE, not kill the daemon.
        signal(SIGPIPE, SIG_IGN)
    }

    /// "ok" while it runs and never died; "ok, died N times, last: …" while it runs again;
    /// "down: …" until it is back.
    var health: String {
        guard let lastCrash else { return child == nil && !stopped ? "down: not started yet" : "ok" }
        let history = "died \(crashes) time\(crashes == 1 ? "" : "s"), last: \(lastCrash)"
        return child != nil && starting == nil ? "ok, \(history)" : "down, restarting: \(history)"
    }

    // MARK: - Calls

    /// One operation in the driver process; the reply body as text.
    func call(_ operation: DriverOperation, set: String?, body: String?, driver: String) async throws(DriverError) -> String {
        if case .failure(let failure) = await ensureStarted() {
            throw DriverError(.transient, "driver process not running: \(failure.reason)", driver: driver, operation: operation.rawValue)
        }
        let reply = await send(DriverProcessWire.Request(id: 0, op: operation.rawValue, set: set, body: body))
        guard let reply else {
            throw DriverError(
                .transient, "driver process \(lastCrash ?? "ended") before it answered; it is restarted",
                driver: driver, operation: operation.rawValue)
        }
        if let error = reply.error { throw error.driverError(driver: driver, operation: operation.rawValue) }
        return reply.reply ?? "{}"
    }

    func remember(set id: String, config: String) {
        openSets.removeAll { $0.id == id }
        openSets.append((id, config))
    }

    func forget(set id: String) async {
        guard openSets.contains(where: { $0.id == id }) else { return }
        openSets.removeAll { $0.id == id }
        if child != nil { _ = await send(DriverProcessWire.Request(id: 0, op: DriverProcessWire.closeSet, set: id, body: nil)) }
    }

    /// Sends a request to the running process; nil when it died (or the call timed out) first.
    private func send(_ request: DriverProcessWire.Request) async -> DriverProcessWire.Reply? {
        guard let child else { return nil }
        var request = request
        request.id = nextID
        nextID += 1
        let id = request.id
        let timeout = callTimeout + .seconds(5)  // the driver process bounds each call itself; this is the backstop
        return await withCheckedContinuation { continuation in
            pending[id] = continuation
            do {
                try Frames.write(child.requests, request)
            } catch {
                pending.removeValue(forKey: id)?.resume(returning: nil)  // it died; its reader reports how
                return
            }
            timers[id] = Task { [weak self] in
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                await self?.expire(id)
            }
        }
    }

    private func expire(_ id: UInt64) {
        timers.removeValue(forKey: id)
        guard let continuation = pending.removeValue(forKey: id) else { return }
        logger.warning("driver process call timed out", metadata: ["path": "\(path)", "timeout": "\(callTimeout)"])
        continuation.resume(
            returning: DriverProcessWire.Reply(
                id: id,
                error: .init(
                    DriverError(.internal, "no reply from the driver process within \(callTimeout)", driver: "", operation: ""))))
    }

    // MARK: - The process

    /// Starts the process when none runs, and waits until it is ready. During the back-off
    /// after a death, calls fail at once (`transient`) unless `waitingOutBackoff`.
    func ensureStarted(waitingOutBackoff: Bool = false) async -> Result<DriverInfo, StartFailure> {
        let wait = ContinuousClock.now.duration(to: notBefore)
        if !waitingOutBackoff, child == nil || starting != nil, wait > .zero {
            return .failure(StartFailure("it \(lastCrash ?? "died"); restarting in \(DriverVetter.seconds(wait))"))
        }
        if let starting { return await starting.value }
        if child != nil, let info { return .success(info) }
        if stopped { return .failure(StartFailure("stopped")) }
        let task = Task { await self.startProcess() }
        starting = task
        let result = await task.value
        starting = nil
        return result
    }

    private func startProcess() async -> Result<DriverInfo, StartFailure> {
        let wait = ContinuousClock.now.duration(to: notBefore)
        if wait > .zero { try? await Task.sleep(for: wait) }
        let seconds = callTimeout.components.seconds
        let process: HelperProcess
        do {
            // No Swift crash report (seconds of symbolication per crash): the log line names the signal.
            process = try HelperProcess(
                executable, [DriverProcessServer.subcommand, "--call-timeout", "\(max(1, seconds))", path], requests: true,
                environment: ["SWIFT_BACKTRACE": "enable=no"])
        } catch {
            noteDeath("could not start: \(error)")
            return .failure(StartFailure("\(error)"))
        }
        generation += 1
        let current = generation
        child = process
        info = nil
        startedAt = .now
        logger.info("driver process started", metadata: ["path": "\(path)", "pid": "\(process.pid)"])
        Self.readReplies(from: process, generation: current, connection: self)
        // Loading was vetted, but a library may still hang here: the process is stopped then.
        let loadDeadline = callTimeout
        Task {
            guard (try? await Task.sleep(for: loadDeadline)) != nil else { return }
            if self.stillLoading(current) { process.kill() }
        }
        let hello = await withCheckedContinuation { (waiter: CheckedContinuation<Result<DriverInfo, StartFailure>, Never>) in helloWaiter = waiter }
        guard case .success(let loaded) = hello else {
            // Refused (or died) while loading: counted once here, and its exit is not a second death.
            if self.generation == current {
                generation += 1
                child = nil
                process.kill()
                if case .failure(let failure) = hello, !failure.diedWhileLoading { noteDeath(failure.reason) }
            }
            return hello
        }
        info = loaded
        for set in openSets {
            let reply = await send(DriverProcessWire.Request(id: 0, op: DriverOperation.openSet.rawValue, set: set.id, body: set.config))
            if let error = reply?.error ?? (reply == nil ? .init(DriverError(.transient, "no answer", driver: "", operation: "")) : nil) {
                logger.error(
                    "driver process: instance set not opened again",
                    metadata: [
                        "path": "\(path)", "instance_set": "\(set.id)",
                        "error": "\(error.message)",
                    ])
            }
        }
        return .success(loaded)
    }

    /// A thread per process reads its frames until the pipe ends, then reaps it.
    private nonisolated static func readReplies(from process: HelperProcess, generation: Int, connection: DriverConnection) {
        let thread = Thread {
            var first = true
            while case .frame(let data) = Frames.read(process.reports) {
                if first {
                    first = false
                    let hello = Frames.decode(DriverProcessWire.Hello.self, data)
                    Task { await connection.hello(hello, generation: generation) }
                    continue
                }
                if let reply = Frames.decode(DriverProcessWire.Reply.self, data) {
                    Task { await connection.deliver(reply, generation: generation) }
                }
            }
            process.kill()  // a broken frame: it is of no use any more
            let ended = process.wait()
            Task { await connection.died(ended, generation: generation) }
        }
        thread.name = "driver-process-reader"
        thread.start()
    }

    private func stillLoading(_ generation: Int) -> Bool { generation == self.generation && helloWaiter != nil }

    private func hello(_ hello: DriverProcessWire.Hello?, generation: Int) {
        guard generation == self.generation else { return }
        let result: Result<DriverInfo, StartFailure> =
            if let ready = hello?.ready { .success(ready) } else {
                .failure(StartFailure(hello?.refused ?? "the driver process sent an unreadable greeting"))
            }
        helloWaiter?.resume(returning: result)
        helloWaiter = nil
    }

    private func deliver(_ reply: DriverProcessWire.Reply, generation: Int) {
        guard generation == self.generation else { return }
        timers.removeValue(forKey: reply.id)?.cancel()
        pending.removeValue(forKey: reply.id)?.resume(returning: reply)
    }

    private func died(_ ended: HelperProcess.Termination, generation: Int) {
        guard generation == self.generation else { return }
        child = nil
        let inFlight = pending.count
        if stopped {
            failAll()
            return
        }
        noteDeath("\(ended)")
        logger.error(
            "driver process died",
            metadata: [
                "path": "\(path)", "cause": "\(ended)", "calls_in_flight": "\(inFlight)",
                "restart_in": "\(ContinuousClock.now.duration(to: notBefore))",
            ])
        helloWaiter?.resume(returning: .failure(StartFailure("the driver process \(ended) while loading the driver", diedWhileLoading: true)))
        helloWaiter = nil
        failAll()
        Task { _ = await self.ensureStarted(waitingOutBackoff: true) }  // after the back-off; its instance sets opened again
    }

    private func failAll() {
        let calls = pending
        pending = [:]
        for timer in timers.values { timer.cancel() }
        timers = [:]
        for continuation in calls.values { continuation.resume(returning: nil) }
    }

    private func noteDeath(_ cause: String) {
        crashes += 1
        crashCounter.increment()
        lastCrash = "\(cause) at \(ISO8601DateFormatter().string(from: Date()))"
        crashesInARow = ContinuousClock.now - startedAt >= restart.stableAfter ? 1 : crashesInARow + 1
        var delay = restart.initialDelay
        for _ in 1..<max(1, crashesInARow) where delay < restart.maximumDelay { delay *= 2 }
        notBefore = .now + min(delay, restart.maximumDelay)
    }

    func stop() {
        stopped = true
        child?.kill(SIGTERM)
    }
}

/// Why a driver process is not serving.
struct StartFailure: Error, Sendable {
    var reason: String
    /// Already counted as a death.
    var diedWhileLoading = false
    init(_ reason: String, diedWhileLoading: Bool = false) {
        self.reason = reason
        self.diedWhileLoading = diedWhileLoading
    }
}
