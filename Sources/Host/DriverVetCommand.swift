import ArgumentParser
import DriverHost
import Foundation

/// `cloud-dispatch driver-vet FILE` (hidden): the vetting child `DriverVetter` starts. Loads,
/// negotiates and opens one driver file and reports each stage and the result on fd 3, so the
/// daemon learns which file crashed or hung, and where, without running its code itself.
struct DriverVetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: DriverVetter.subcommand,
        abstract: "Internal: try one driver file for the daemon (reports on fd 3).",
        shouldDisplay: false)

    @Option(help: "What the file is to be loaded as: driver or executor.")
    var kind: PluginKind = .driver

    @Option(help: "The host's ABI version, packed (major << 16 | minor).")
    var abi: UInt32 = ABIVersion.host.packed

    @Option(help: "Bytes of the function table the host offers.")
    var tableSize: Int

    @Argument(help: "The driver file.")
    var file: String

    func run() throws {
        let logger = Wiring.logger(level: .warning)
        let status = DriverVetter.runChild(path: file, kind: kind, hostVersion: ABIVersion(packed: abi), tableSize: tableSize, logger: logger)
        // _exit: no atexit handlers or library destructors of the driver run after the report.
        _exit(status)
    }
}

extension PluginKind: ExpressibleByArgument {}
