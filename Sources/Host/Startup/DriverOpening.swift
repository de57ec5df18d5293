import Config
import DriverHost
import Foundation
import JSON
import Logging

/// The driver a configuration names, loaded from its plugins folder, and its instance set
/// opened: the one way `serve` and `check-config` get them, so both meet the same refusals.
/// Every file is vetted in a child process first; only the named driver is loaded.
///
///     let opened = try await DriverOpening.open(config, setID: config.dispatcherID,
///                                               driverConfig: config.effectiveDriverConfig, origins: origins, logger: logger)
///     let made = try await opened.instanceSet.create(request)
enum DriverOpening {
    struct Opened: Sendable {
        let driver: any CloudDriver
        let instanceSet: any InstanceSet
    }

    static func open(
        _ config: Configuration, setID: String, driverConfig: JSONValue, origins: SettingOrigins, logger: Logger,
        pool: BlockingPool = BlockingPool(name: "driver", threads: 8), callTimeout: Duration = .seconds(120)
    )
        async throws(SettingProblem) -> Opened
    {
        let folder = PluginsFolder.resolve(flag: config.driver.plugins)
        // The folder came from the file when driver.plugins is set (never from a --plugins flag here).
        let folderOrigin = config.driver.plugins == nil ? folder.source.rawValue : origins.name("driver.plugins")
        let loader = Wiring.driverLoader(
            pool: pool, logger: logger, callTimeout: callTimeout,
            loadTimeout: .seconds(config.driver.loadTimeout))
        let isolated = config.driver.isolation == .process
        let report = await loader.load(folder: folder.path, only: config.driver.name, inThisProcess: !isolated)
        let driver: any CloudDriver
        if let loaded = report.driver(id: config.driver.name) {
            driver = loaded
        } else if isolated, let vetted = report.skipped.first(where: { $0.id == config.driver.name }) {
            switch await ProcessDriver.start(
                path: vetted.realPath ?? vetted.path, executable: HelperProcess.currentExecutable(),
                callTimeout: callTimeout, logger: logger)
            {
            case .success(let started): driver = started
            case .failure(let refusal):
                throw SettingProblem("driver.isolation", "the driver process for \(refusal.path) did not start: \(refusal.reason)")
            }
        } else {
            let found = report.usableIDs
            let refused = report.refused.map { "; refused \($0)" }.joined()
            throw SettingProblem(
                "driver.name",
                "no driver \"\(config.driver.name)\" in \(folder.path) (plugins folder from \(folderOrigin); "
                    + "found: \(found.isEmpty ? "none" : found.joined(separator: ", ")))\(refused)")
        }
        let text: String
        do { text = String(decoding: try JSONEncoder().encode(driverConfig), as: UTF8.self) } catch {
            throw SettingProblem("driver.config", "cannot be written as JSON: \(error)")
        }
        do {
            return Opened(driver: driver, instanceSet: try await driver.openInstanceSet(id: setID, config: text))
        } catch {
            throw SettingProblem(
                error.errorClass == .invalid ? "driver.config" : "driver.name",
                "the \(driver.info.id) driver refused its configuration (\(error.errorClass.name)): \(error.message)")
        }
    }
}
