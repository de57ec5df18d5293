import Config
import CoreMetrics
import DriverHost
import ExecutorPool
import Foundation
import Logging
import Queue

/// The executor backend a configuration names (`executor:`), loaded from its plugins folder and
/// opened for a dispatcher id, and the dispatcher that runs the queue on it. Every file is
/// vetted in a child process first, as for drivers.
///
///     let plugin = try await ExecutorOpening.plugin(settings, executor, origins: origins, logger: logger)
///     let dispatcher = try await ExecutorOpening.dispatcher(plugin, settings, executor, id: settings.dispatcherID, store: store, logger: logger)
enum ExecutorOpening {
    static func plugin(
        _ config: Configuration, _ e: Configuration.ExecutorSettings, origins: SettingOrigins, logger: Logger
    ) async throws(SettingProblem) -> any ExecutorPlugin {
        let folder = PluginsFolder.resolve(flag: e.plugins)
        let folderOrigin = e.plugins == nil ? folder.source.rawValue : origins.name("executor.plugins")
        let loader = Wiring.driverLoader(logger: logger, callTimeout: .seconds(e.callTimeout), loadTimeout: .seconds(e.loadTimeout))
        let report = await loader.load(folder: folder.path, only: e.name)
        guard let plugin = report.executor(id: e.name) else {
            let found = report.executors.map(\.info.id).sorted()
            let refused = report.refused.map { "; refused \($0)" }.joined()
            throw SettingProblem(
                "executor.name",
                "no executor backend \"\(e.name)\" (libcdx_\(e.name).so) in \(folder.path) (plugins folder from \(folderOrigin); "
                    + "executor backends found: \(found.isEmpty ? "none" : found.joined(separator: ", ")))\(refused)")
        }
        return plugin
    }

    /// The backend opened for dispatcher `id` (this daemon's, or in drain mode a taken-over one's)
    /// with this daemon's executor configuration, and its dispatcher.
    static func dispatcher(
        _ plugin: any ExecutorPlugin, _ config: Configuration, _ e: Configuration.ExecutorSettings, id: String, drainOnly: Bool = false,
        store: any ContainerStore, logger: Logger
    ) async throws(SettingProblem) -> ExecutorDispatcher {
        let text: String
        do { text = String(decoding: try JSONEncoder().encode(e.config), as: UTF8.self) } catch {
            throw SettingProblem("executor.config", "cannot be written as JSON: \(error)")
        }
        let backend: any ExecutorBackend
        do { backend = try await plugin.openBackend(dispatcherID: id, config: text) } catch {
            throw SettingProblem(
                error.errorClass == .invalid ? "executor.config" : "executor.name",
                "the \(plugin.info.id) executor backend refused its configuration (\(error.errorClass.name)): \(error.message)")
        }
        var settings = ExecutorDispatcher.Settings()
        settings.pass = .init(partitions: e.partitions, maxSubmitsPerRound: e.maxSubmitsPerRound, maxJobs: e.maxJobs)
        settings.cancelGrace = .milliseconds(Int64(e.cancelGrace * 1000))
        settings.callTimeout = .milliseconds(Int64(e.callTimeout * 1000))
        settings.tagPrefix = config.workers.tagPrefix
        // The process's registry; a drain's jobs are not this daemon's to count.
        settings.metrics = drainOnly ? nil : ExecutorMetrics(factory: MetricsSystem.factory, executor: plugin.info.id)
        var logger = logger
        logger[metadataKey: "executor"] = "\(plugin.info.id)"
        logger.notice(
            drainOnly ? "draining a taken-over dispatcher's jobs" : "dispatching",
            metadata: [
                "executor": "\(plugin.info.id)", "dispatcher": "\(id)",
                "partitions": "\(e.partitions.isEmpty ? "all" : e.partitions.joined(separator: ","))",
            ])
        return ExecutorDispatcher(id: id, store: store, backend: backend, settings: settings, logger: logger, drainOnly: drainOnly)
    }
}
