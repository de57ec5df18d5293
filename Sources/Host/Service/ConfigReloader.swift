import Config
import Foundation
import Logging
import Synchronization
import WorkerPool

/// SIGHUP: reads the configuration file again and hands what may change while running
/// (`ReloadRules`, in Config) to the dispatcher, without touching instances or containers. A file
/// with problems is refused (logged; the old settings stay). Other changes are logged as needing
/// a restart.
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

    init(
        path: String, current: Configuration, dispatcher: Dispatcher?, metrics: DispatchMetrics, logger: Logger,
        overrides: @escaping @Sendable (inout Configuration) -> Void
    ) {
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
            logger.error(
                "configuration reload refused; keeping the running configuration",
                metadata: ["file": "\(path)", "problems": "\(problems.items.joined(separator: "; "))"])
            return
        }
        overrides(&new)
        let old = current.withLock { $0 }
        // Only the applied parts count as current: a later reload still sees the rest as pending.
        let applied = ReloadRules.applied(new, over: old)
        if let dispatcher {
            var pool = await dispatcher.pool.settings
            DispatchWiring.applyTimeouts(applied, to: &pool)
            await dispatcher.reconfigure(
                types: applied.instanceTypes, maxPriceFactor: applied.scheduling.maxPriceFactor,
                limits: applied.scheduling.limits, poolSettings: pool)
        }
        let pending = ReloadRules.needingRestart(old, new)
        current.withLock { $0 = applied }  // reloads run one at a time (`queue`)
        metrics.configReload(applied: true)
        logger.notice(
            "configuration reloaded",
            metadata: [
                "file": "\(path)", "types": "\(new.instanceTypes.map(\.name).joined(separator: ","))",
                "max_instances": "\(new.scheduling.limits.maxInstances)",
            ])
        if !pending.isEmpty {
            logger.warning("some changed settings take effect only at the next start", metadata: ["keys": "\(pending.joined(separator: ","))"])
        }
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
