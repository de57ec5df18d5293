import ArgumentParser
import Logging

/// `cloud-dispatch`: the daemon and its command-line tools.
@main
struct CloudDispatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloud-dispatch",
        abstract: "Runs a queue of containers on cloud VMs it creates, reuses and shuts down by itself.",
        subcommands: [
            ServeCommand.self, CheckConfigCommand.self, SubmitCommand.self, PsCommand.self, ShowCommand.self, CancelCommand.self,
            PriorityCommand.self, LogsCommand.self, InstancesCommand.self, HoldCommand.self, DrainCommand.self, RunCommand.self,
            KillCommand.self, QueueCommand.self, ExplainCommand.self, DriversCommand.self, DriverTestCommand.self, BenchCommand.self,
        ])
}

/// Options every command that loads drivers shares.
struct DriverOptions: ParsableArguments {
    @Option(name: .customLong("plugins"), help: ArgumentHelp(
        "Plugins folder with libcdd_*.so drivers (default: $CLOUD_DISPATCH_PLUGINS, then next to the executable, then <prefix>/lib/cloud-dispatch/drivers).",
        valueName: "dir"))
    var plugins: String?

    @Option(help: ArgumentHelp("Seconds any one driver call may take.", valueName: "seconds"))
    var callTimeout: Int = 120

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
