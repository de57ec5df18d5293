import ArgumentParser
import DriverHost
import Foundation
import Logging

/// `cloud-dispatch driver-process FILE` (hidden): the host process of a driver configured with
/// `driver.isolation: process`. Loads the file and serves its operations to the daemon over
/// fds 3 and 4 until the daemon hangs up (`DriverProcessServer`).
struct DriverProcessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: DriverProcessServer.subcommand,
        abstract: "Internal: serve one driver to the daemon (fds 3 and 4).",
        shouldDisplay: false)

    @Option(help: "Seconds any one driver call may take.")
    var callTimeout: Int = 120

    @Option(help: "Log level of the driver process (its lines go to the daemon's standard error).")
    var logLevel: Logger.Level = .warning

    @Argument(help: "The driver file.")
    var file: String

    func run() throws {
        let logger = Wiring.logger(level: logLevel)
        _exit(DriverProcessServer.serve(path: file, callTimeout: .seconds(callTimeout), logger: logger))
    }
}
