import ArgumentParser
import Glibc
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
            KillCommand.self, QueueCommand.self, DispatchersCommand.self, ExplainCommand.self, DriversCommand.self, DriverTestCommand.self,
            ExecutorTestCommand.self,
            BenchCommand.self,
            DriverVetCommand.self, DriverProcessCommand.self,
        ])

    static func main() async {
        // glibc gives each thread that contends for malloc an arena of its own and keeps what
        // they free; with the cooperative pool, the store's and the SSH pools' threads that
        // cost the daemon a quarter of its memory at 100,000 containers. Two arenas suffice.
        limitMallocArenas(2)
        await main(nil)
    }

    /// mallopt(M_ARENA_MAX, n): <malloc.h> is not part of Swift's Glibc module, so it is found
    /// by name. Like MALLOC_ARENA_MAX in the environment, which still wins when set.
    private static func limitMallocArenas(_ n: Int32) {
        guard getenv("MALLOC_ARENA_MAX") == nil, let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        let M_ARENA_MAX: Int32 = -8
        _ = mallopt(M_ARENA_MAX, n)
    }
}

/// Options every command that loads drivers shares.
struct DriverOptions: ParsableArguments {
    @Option(
        name: .customLong("plugins"),
        help: ArgumentHelp(
            "Plugins folder with libcdd_*.so drivers (default: $CLOUD_DISPATCH_PLUGINS, then next to the executable, "
                + "then <prefix>/lib/cloud-dispatch/drivers).",
            valueName: "dir"))
    var plugins: String?

    @Option(help: ArgumentHelp("Seconds any one driver call may take.", valueName: "seconds"))
    var callTimeout: Int = 120

    @Option(help: ArgumentHelp("Seconds a driver file may take to load, negotiate and open (each) in the vetting child.", valueName: "seconds"))
    var loadTimeout: Double = 10

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .warning
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
