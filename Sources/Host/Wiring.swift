import DriverHost
import Foundation
import Logging
import CoreMetrics
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

    static func loadDrivers(_ options: DriverOptions, logger: Logger) async -> (PluginsFolder, LoadReport) {
        let folder = PluginsFolder.resolve(flag: options.plugins)
        let pool = BlockingPool(name: "driver", threads: 8)
        let loader = DriverLoader(pool: pool, logger: logger, callTimeout: .seconds(options.callTimeout))
        return (folder, await loader.load(folder: folder.path))
    }
}

/// Prints to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
