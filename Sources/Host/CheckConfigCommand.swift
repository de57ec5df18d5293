import ArgumentParser
import Config
import DriverHost
import Foundation
import Logging

/// `cloud-dispatch check-config FILE`: every problem of a configuration, each with its path —
/// the file's own (unknown key, wrong type, impossible value, unreadable file, missing price)
/// and the host's (unknown driver, missing runner, unusable worker key) — exit 1 if any.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a configuration file: print every problem with its path; exit 1 if there is any.")

    @Argument(help: ArgumentHelp("Configuration file (YAML).", valueName: "file"))
    var file: String

    @Flag(help: "Also print the effective configuration, every default filled in, when it is valid.")
    var dump = false

    func run() async throws {
        let (config, problems) = ConfigLoader.check(path: file)
        var items = problems.items
        if let config { items += await HostChecks.problems(config) }
        guard items.isEmpty else {
            for item in items { print("\(file): \(item)") }
            print("\(items.count) problem\(items.count == 1 ? "" : "s")")
            throw ExitCode(1)
        }
        if dump, let config {
            print(ConfigLoader.dump(config), terminator: "")
        } else {
            print("\(file): ok")
        }
    }
}

/// What only the host can check: the driver is in its plugins folder, the runner is there,
/// the worker key is usable.
enum HostChecks {
    static func problems(_ config: Configuration) async -> [String] {
        var found: [String] = []
        let quiet = Logger(label: "check-config") { _ in SwiftLogNoOpLogHandler() }
        let folder = PluginsFolder.resolve(flag: config.driver.plugins)
        let report = await DriverLoader(pool: BlockingPool(name: "check", threads: 1), logger: quiet).load(folder: folder.path)
        if report.driver(id: config.driver.name) == nil {
            let loaded = report.drivers.map(\.info.id).sorted()
            found.append("driver.name: no driver \"\(config.driver.name)\" in \(folder.path) (found: "
                         + (loaded.isEmpty ? "none" : loaded.joined(separator: ", ")) + ")")
        }
        if config.workers.runnerBinary == nil {
            let path = PluginsFolder.executableFolder() + "/cloud-dispatch-runner"
            if !FileManager.default.isReadableFile(atPath: path) {
                found.append("workers.runner_binary: not set, and there is no runner at \(path)")
            }
        }
        let key = config.workerKeyPath
        let at = config.workers.sshKey == nil ? "workers.ssh_key (default)" : "workers.ssh_key"
        if FileManager.default.fileExists(atPath: key) {
            if !FileManager.default.isReadableFile(atPath: key) { found.append("\(at): cannot read \(key)") }
            if !FileManager.default.isReadableFile(atPath: key + ".pub") {
                found.append("\(at): cannot read \(key).pub, its public half")
            }
        } else if config.workers.sshKey == nil, !writableFolder(config.stateDir) {
            found.append("state_dir: \(config.stateDir) cannot be created or written (the worker key is made there)")
        }
        return found
    }

    /// An existing writable folder, or one that can be made (its nearest existing parent is writable).
    static func writableFolder(_ path: String) -> Bool {
        var current = path
        while !FileManager.default.fileExists(atPath: current) {
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { return false }
            current = parent
        }
        return FileManager.default.isWritableFile(atPath: current)
    }
}
