import ArgumentParser
import DriverHost
import Foundation

/// `cloud-dispatch drivers [list|install|remove]`.
struct DriversCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drivers",
        abstract: "List, install or remove the drivers of the plugins folder.",
        subcommands: [DriversListCommand.self, DriversInstallCommand.self, DriversRemoveCommand.self],
        defaultSubcommand: DriversListCommand.self)
}

/// `cloud-dispatch drivers [list]`: what loaded from the plugins folder, and what was refused.
struct DriversListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the drivers in the plugins folder and the files refused, with their reasons.")

    @OptionGroup var options: DriverOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    struct Listing: Encodable {
        struct Loaded: Encodable {
            var id, version, abi, path, description: String
            /// The file loaded, when `path` is a symbolic link.
            var realPath: String?
            var capabilities: Capabilities?
            var capabilitiesError: String?
            enum CodingKeys: String, CodingKey {
                case id, version, abi, path, description, capabilities
                case realPath = "real_path"
                case capabilitiesError = "capabilities_error"
            }
        }
        var folder: String
        var folderSource: String
        var drivers: [Loaded]
        var refused: [Refusal]
        enum CodingKeys: String, CodingKey {
            case folder, drivers, refused
            case folderSource = "folder_source"
        }
    }

    func run() async throws {
        let logger = Wiring.logger(level: options.logLevel)
        let (folder, report) = await Wiring.loadDrivers(options, logger: logger)
        var loaded: [Listing.Loaded] = []
        for driver in report.drivers {
            let info = driver.info
            var entry = Listing.Loaded(
                id: info.id, version: info.version, abi: info.abi, path: info.path, description: info.description,
                realPath: info.realPath)
            do {
                entry.capabilities = try await driver.capabilities()
            } catch {
                entry.capabilitiesError = error.description
            }
            loaded.append(entry)
        }
        let listing = Listing(folder: folder.path, folderSource: folder.source.rawValue, drivers: loaded, refused: report.refused)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(listing), as: UTF8.self))
        } else {
            print(Self.table(listing))
        }
        if report.drivers.isEmpty { throw ExitCode(1) }
    }

    static func table(_ listing: Listing) -> String {
        var lines = ["plugins folder: \(listing.folder) (\(listing.folderSource))", ""]
        if listing.drivers.isEmpty {
            lines.append("no drivers loaded")
        } else {
            let rows = listing.drivers.map { d -> [String] in
                let caps =
                    d.capabilities.map { c in
                        [
                            c.simulated ? "simulated" : "real-cloud", c.idempotentCreate ? "idempotent" : nil,
                            c.preemptible ? "preemptible" : nil, c.hostKeys ? "host-keys" : nil,
                            "create≤\(c.maxCreateCount)", "destroy≤\(c.maxDestroyBatch)",
                        ].compactMap { $0 }.joined(separator: ",")
                    } ?? "capabilities failed: \(d.capabilitiesError ?? "?")"
                return [d.id, d.version, d.abi, caps, d.path + (d.realPath.map { " -> \($0)" } ?? "")]
            }
            lines.append(contentsOf: TextTable.render(header: ["DRIVER", "VERSION", "ABI", "CAPABILITIES", "PATH"], rows: rows))
        }
        if !listing.refused.isEmpty {
            lines.append("")
            lines.append("refused:")
            for r in listing.refused { lines.append("  \(r.path): \(r.reason)") }
        }
        return lines.joined(separator: "\n")
    }
}

/// `cloud-dispatch drivers install FILE`: vet a driver file and copy it into the plugins folder.
struct DriversInstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Vet a driver file, then copy it atomically into the plugins folder as libcdd_<id>.so; say what it replaced.")

    @OptionGroup var options: DriverOptions

    @Argument(help: "The driver file (.so).")
    var file: String

    func run() async throws {
        let logger = Wiring.logger(level: options.logLevel)
        let folder = PluginsFolder.resolve(flag: options.plugins)
        let installer = DriverInstaller(loader: Wiring.driverLoader(options, logger: logger))
        do {
            print(try installer.install(file, into: folder.path))
        } catch {
            printError(error.description)
            throw ExitCode(1)
        }
    }
}

/// `cloud-dispatch drivers remove NAME`.
struct DriversRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove libcdd_<NAME>.so from the plugins folder (a running daemon keeps the driver it loaded).")

    @OptionGroup var options: DriverOptions

    @Argument(help: "Driver id (or file name).")
    var name: String

    func run() async throws {
        let logger = Wiring.logger(level: options.logLevel)
        let folder = PluginsFolder.resolve(flag: options.plugins)
        let installer = DriverInstaller(loader: Wiring.driverLoader(options, logger: logger))
        do {
            print(try installer.remove(name, from: folder.path))
        } catch {
            printError(error.description)
            throw ExitCode(1)
        }
    }
}

/// Left-aligned columns separated by two spaces.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }
    }
}
