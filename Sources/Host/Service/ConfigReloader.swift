import Config
import Foundation
import Logging
import Synchronization
import WorkerPool

/// SIGHUP: reads the configuration file again and applies what can change while running —
/// instance types, scheduling limits, the pool's timeouts and intervals — without touching
/// instances or containers. A file with problems is refused (logged; the old settings stay).
/// Other changes are logged as needing a restart.
final class ConfigReloader: Sendable {
    let path: String
    let dispatcher: Dispatcher?
    let metrics: DispatchMetrics
    let logger: Logger
    /// The command line's overrides (--listen, --state-dir), applied to every reading.
    let overrides: @Sendable (inout Configuration) -> Void
    private let current: Mutex<Configuration>
    /// One reload at a time, in signal order.
    private let queue = AsyncSerial()

    init(path: String, current: Configuration, dispatcher: Dispatcher?, metrics: DispatchMetrics, logger: Logger,
         overrides: @escaping @Sendable (inout Configuration) -> Void) {
        self.path = path
        self.current = Mutex(current)
        self.dispatcher = dispatcher
        self.metrics = metrics
        self.logger = logger
        self.overrides = overrides
    }

    func reloadInBackground() {
        queue.enqueue { await self.reload() }
    }

    func reload() async {
        var new: Configuration
        switch ConfigLoader.load(path: path) {
        case .success(let read): new = read
        case .failure(let problems):
            metrics.configReload(applied: false)
            logger.error("configuration reload refused; keeping the running configuration",
                         metadata: ["file": "\(path)", "problems": "\(problems.items.joined(separator: "; "))"])
            return
        }
        overrides(&new)
        let old = current.withLock { $0 }
        if let dispatcher {
            var pool = await dispatcher.pool.settings
            DispatchWiring.applyTimeouts(new, to: &pool)
            await dispatcher.reconfigure(types: new.instanceTypes, maxPriceFactor: new.scheduling.maxPriceFactor,
                                         limits: new.scheduling.limits, poolSettings: pool)
        }
        let pending = Self.restartOnly(old, new)
        // Only the applied parts count as current: a later reload still sees the rest as pending.
        current.withLock { c in
            c.instanceTypes = new.instanceTypes
            c.scheduling = new.scheduling
            c.workers = Self.withReloadable(from: new.workers, into: c.workers)
        }
        metrics.configReload(applied: true)
        logger.notice("configuration reloaded", metadata: [
            "file": "\(path)", "types": "\(new.instanceTypes.map(\.name).joined(separator: ","))",
            "max_instances": "\(new.scheduling.limits.maxInstances)",
        ])
        if !pending.isEmpty {
            logger.warning("some changed settings take effect only at the next start", metadata: ["keys": "\(pending.joined(separator: ","))"])
        }
    }

    /// The worker settings a reload applies.
    static func withReloadable(from new: Configuration.WorkerSettings, into old: Configuration.WorkerSettings) -> Configuration.WorkerSettings {
        var w = old
        w.bootTimeout = new.bootTimeout
        w.probeTimeout = new.probeTimeout
        w.shutdownRetry = new.shutdownRetry
        w.listGrace = new.listGrace
        w.probeInterval = new.probeInterval
        return w
    }

    /// Top-level keys that changed but need a restart.
    static func restartOnly(_ old: Configuration, _ new: Configuration) -> [String] {
        var keys: [String] = []
        if old.dispatcherID != new.dispatcherID { keys.append("dispatcher_id") }
        if old.listenHost != new.listenHost || old.listenPort != new.listenPort { keys.append("listen") }
        if old.stateDir != new.stateDir { keys.append("state_dir") }
        if old.logFormat != new.logFormat { keys.append("log_format") }
        if old.queue != new.queue { keys.append("queue") }
        if old.api != new.api { keys.append("api") }
        if old.driver != new.driver { keys.append("driver") }
        if withReloadable(from: old.workers, into: new.workers) != old.workers { keys.append("workers") }
        return keys
    }
}

/// Runs async jobs one after another, in the order given.
final class AsyncSerial: Sendable {
    private let continuation: AsyncStream<@Sendable () async -> Void>.Continuation

    init() {
        let (stream, continuation) = AsyncStream.makeStream(of: (@Sendable () async -> Void).self)
        self.continuation = continuation
        Task { for await job in stream { await job() } }
    }

    func enqueue(_ job: @escaping @Sendable () async -> Void) { continuation.yield(job) }
}
