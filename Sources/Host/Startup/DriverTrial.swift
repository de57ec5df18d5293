import Config
import DriverHost
import Foundation
import JSON
import Logging

/// `check-config`'s use of the driver: loaded and opened exactly as `serve` opens it
/// (`DriverOpening`), so an unknown `driver.config` key or a type missing from the catalogue is
/// found before serving — but where it can touch neither a running dispatcher's instances nor
/// its state: under a throwaway instance-set id, and for the loopback driver (whose set is a
/// folder it makes and sweeps) in a throwaway state folder, removed after.
enum DriverTrial {
    /// `catalogue`: also check each configured type against the driver's catalogue.
    /// Also returns `CatalogueCheck.table` (empty when the driver could not be opened).
    static func problems(_ config: Configuration, origins: SettingOrigins, catalogue: Bool) async -> (problems: [SettingProblem], types: [String]) {
        var problems: [SettingProblem] = []
        var table: [String] = []
        var driverConfig = config.effectiveDriverConfig
        var scratch: String?
        if config.driver.name == "loopback", case .object(var members) = driverConfig, case .string(let dir)? = members["state_dir"] {
            // The default one is under state_dir, which is checked by itself.
            if config.driver.config?["state_dir"] != nil, dir.hasPrefix("/"), let problem = StateFolder.check(dir) {
                problems.append(SettingProblem("driver.config.state_dir", problem))
            }
            let folder = FileManager.default.temporaryDirectory.path + "/cloud-dispatch-check-\(getpid())"
            members["state_dir"] = .string(folder)
            driverConfig = .object(members)
            scratch = folder
        }
        defer { if let scratch { try? FileManager.default.removeItem(atPath: scratch) } }
        let quiet = Logger(label: "check-config") { _ in SwiftLogNoOpLogHandler() }
        do {
            let opened = try await DriverOpening.open(
                config, setID: "check-config-\(getpid())", driverConfig: driverConfig, origins: origins,
                logger: quiet, pool: BlockingPool(name: "check", threads: 1), callTimeout: .seconds(30))
            if catalogue {
                problems += await CatalogueCheck.problems(config.instanceTypes, in: opened)
                table = await CatalogueCheck.table(config.instanceTypes, in: opened)
            }
            await opened.instanceSet.close()
        } catch {
            problems.append(error)
        }
        return (problems, table)
    }
}
