import CoreMetrics
import DriverHost
import Foundation
import Logging
import Prometheus
import WorkerPool

/// Builds the shared parts every command needs.
enum Wiring {
    static func logger(level: Logger.Level, format: StructuredLogHandler.Format = .logfmt) -> Logger {
        LoggingSystem.bootstrap { label in
            StructuredLogHandler(label: label, format: format, level: level)
        }
        return Logger(label: "cloud-dispatch")
    }

    /// The process's metrics: one Prometheus registry, also behind the global swift-metrics
    /// factory (so libraries that use it land in the same /metrics page).
    static func metrics() -> (PrometheusCollectorRegistry, DispatchMetrics) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets = DispatchMetrics.histogramBuckets
        MetricsSystem.bootstrap(factory)
        return (registry, DispatchMetrics(factory: factory))
    }

    /// The one way the host builds its driver loader: each file is first tried in a child of
    /// this executable (`driver-vet`), so no file can crash or hang the command that loads it.
    static func driverLoader(
        pool: BlockingPool = BlockingPool(name: "driver", threads: 8), logger: Logger,
        callTimeout: Duration, loadTimeout: Duration
    ) -> DriverLoader {
        var loader = DriverLoader(pool: pool, logger: logger, callTimeout: callTimeout)
        loader.vetter = DriverVetter(executable: HelperProcess.currentExecutable(), deadline: loadTimeout)
        return loader
    }

    static func driverLoader(_ options: DriverOptions, logger: Logger) -> DriverLoader {
        driverLoader(logger: logger, callTimeout: .seconds(options.callTimeout), loadTimeout: .seconds(options.loadTimeout))
    }

    /// `only`: the one driver the command needs; the other files are vetted, never loaded.
    static func loadDrivers(_ options: DriverOptions, logger: Logger, only: String? = nil) async -> (PluginsFolder, LoadReport) {
        let folder = PluginsFolder.resolve(flag: options.plugins)
        let loader = driverLoader(options, logger: logger)
        return (folder, await loader.load(folder: folder.path, only: only))
    }
}

/// Prints to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
