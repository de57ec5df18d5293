import ArgumentParser
import Config
import DriverHost
import Foundation

/// `cloud-dispatch check-config FILE`: every problem of a configuration, each with its path —
/// the file's own (unknown key, wrong type, impossible value, unreadable file, missing price)
/// and what `serve` would meet (the state folder, the store, the driver and its config, the
/// catalogue, the runner, the worker key) — exit 1 if any.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a configuration file as serve would use it: print every problem with its path; exit 1 if there is any.")

    @Argument(help: ArgumentHelp("Configuration file (YAML).", valueName: "file"))
    var file: String

    @Flag(help: "Also print the effective configuration, every default filled in, when it is valid.")
    var dump = false

    func run() async throws {
        let (config, problems) = ConfigLoader.check(path: file)
        var items = problems.items
        var types: [String] = []
        if let config {
            // A type the file got wrong is not read, so the read list's indexes would not be the file's.
            let typesAsWritten = !items.contains { $0.hasPrefix("instance_types") }
            let host = await HostChecks.problems(config, origins: SettingOrigins(file: file), catalogue: typesAsWritten)
            items += host.problems.map(\.description)
            types = host.types
        }
        guard items.isEmpty else {
            for item in items { print("\(file): \(item)") }
            print("\(items.count) problem\(items.count == 1 ? "" : "s")")
            throw ExitCode(1)
        }
        if dump, let config {
            print(ConfigLoader.dump(config), terminator: "")
        } else {
            print("\(file): ok")
            for line in types { print(line) }
        }
    }
}

/// What only the host can check, in the order `serve` meets it: the state folder, the store,
/// the driver (opened, its config and catalogue checked), the runner, the worker key.
enum HostChecks {
    /// Also returns the configured types beside the driver's catalogue (`CatalogueCheck.table`).
    static func problems(
        _ config: Configuration, origins: SettingOrigins, catalogue: Bool = true
    ) async -> (problems: [SettingProblem], types: [String]) {
        var found: [SettingProblem] = []
        if let problem = StateFolder.check(config.stateDir) { found.append(SettingProblem("state_dir", problem)) }
        found += await StoreCheck.problems(config)
        // An executor backend's pool has no driver, runner or worker key; serve opens the backend
        // and names what it found when it cannot.
        if config.executor != nil { return (found, []) }
        let trial = await DriverTrial.problems(config, origins: origins, catalogue: catalogue)
        found += trial.problems
        if config.workers.runnerBinary == nil {
            let path = PluginsFolder.executableFolder() + "/cloud-dispatch-runner"
            if !FileManager.default.isReadableFile(atPath: path) {
                found.append(SettingProblem("workers.runner_binary", "not set, and there is no runner at \(path)"))
            }
        }
        let key = config.workerKeyPath
        let at = config.workers.sshKey == nil ? "workers.ssh_key (default)" : "workers.ssh_key"
        if FileManager.default.fileExists(atPath: key) {
            if !FileManager.default.isReadableFile(atPath: key) { found.append(SettingProblem(at, "cannot read \(key)")) }
            if !FileManager.default.isReadableFile(atPath: key + ".pub") {
                found.append(SettingProblem(at, "cannot read \(key).pub, its public half"))
            }
        }
        return (found, trial.types)
    }
}
