import ArgumentParser
import DriverHost
import Foundation

/// `cloud-dispatch drivers [list|install|remove]`.
struct DriversCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drivers",
        abstract: "List, install or remove the drivers and executor backends of the plugins folder.",
        subcommands: [DriversListCommand.self, DriversInstallCommand.self, DriversRemoveCommand.self],
        defaultSubcommand: DriversListCommand.self)
}

/// `cloud-dispatch drivers [list]`: what loaded from the plugins folder, and what was refused.
struct DriversListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the drivers and executor backends in the plugins folder and the files refused, with their reasons.")

    @OptionGroup var options: DriverOptions

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    struct Listing: Encodable {
        struct Loaded: Encodable {
            var id, version, abi, path, description: String
            /// "driver" or "executor".
            var kind: PluginKind
            /// The file loaded, when `path` is a symbolic link.
            var realPath: String?
            var capabilities: AnyCapabilities?
            var capabilitiesError: String?
            enum CodingKeys: String, CodingKey {
                case id, version, abi, path, description, capabilities, kind
                case realPath = "real_path"
                case capabilitiesError = "capabilities_error"
            }

            init(_ info: DriverInfo) {
                id = info.id
                version = info.version
                abi = info.abi
                path = info.path
                description = info.description
                kind = info.kind
                realPath = info.realPath
            }
        }

        /// A driver's or an executor backend's capabilities, as each spells them.
        enum AnyCapabilities: Encodable {
            case driver(Capabilities)
            case executor(ExecutorCapabilities)

            func encode(to encoder: any Encoder) throws {
                switch self {
                case .driver(let c): try c.encode(to: encoder)
                case .executor(let c): try c.encode(to: encoder)
                }
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
            var entry = Listing.Loaded(driver.info)
            do {
                entry.capabilities = .driver(try await driver.capabilities())
            } catch {
                entry.capabilitiesError = error.description
            }
            loaded.append(entry)
        }
        for executor in report.executors {
            var entry = Listing.Loaded(executor.info)
            do {
                entry.capabilities = .executor(try await executor.capabilities())
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
        if report.drivers.isEmpty && report.executors.isEmpty { throw ExitCode(1) }
    }

    /// Capabilities as one short cell.
    static func summary(_ capabilities: Listing.AnyCapabilities) -> String {
        let words: [String?] =
            switch capabilities {
            case .driver(let c):
                [
                    c.simulated ? "simulated" : "real-cloud", c.idempotentCreate ? "idempotent" : nil,
                    c.preemptible ? "preemptible" : nil, c.hostKeys ? "host-keys" : nil,
                    "create≤\(c.maxCreateCount)", "destroy≤\(c.maxDestroyBatch)",
                ]
            case .executor(let c):
                [c.idempotentSubmit ? "idempotent" : nil, c.images ? "images" : "commands", c.logTail ? "log-tail" : nil]
            }
        return words.compactMap { $0 }.joined(separator: ",")
    }

    static func table(_ listing: Listing) -> String {
        var lines = ["plugins folder: \(listing.folder) (\(listing.folderSource))", ""]
        if listing.drivers.isEmpty {
            lines.append("no drivers loaded (and no executor backends)")
        } else {
            let rows = listing.drivers.map { d -> [String] in
                let caps = d.capabilities.map(Self.summary) ?? "capabilities failed: \(d.capabilitiesError ?? "?")"
                return [d.kind.rawValue, d.id, d.version, d.abi, caps, d.path + (d.realPath.map { " -> \($0)" } ?? "")]
            }
            lines.append(contentsOf: TextTable.render(header: ["KIND", "DRIVER", "VERSION", "ABI", "CAPABILITIES", "PATH"], rows: rows))
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
        abstract: "Vet a driver file, then copy it atomically into the plugins folder as libcdd_<id>.so (an executor backend, "
            + "libcdx_*.so, as libcdx_<id>.so); say what it replaced.")

    @OptionGroup var options: DriverOptions

    @Argument(help: "The driver file (.so); one named libcdx_*.so is installed as an executor backend.")
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
        abstract: "Remove libcdd_<NAME>.so (else libcdx_<NAME>.so) from the plugins folder (a running daemon keeps what it loaded).")

    @OptionGroup var options: DriverOptions

    @Argument(help: "Driver or executor id (or file name).")
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
