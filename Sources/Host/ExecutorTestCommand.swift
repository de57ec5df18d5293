import ArgumentParser
import DriverConformance
import DriverHost
import Foundation

/// `cloud-dispatch executor-test`: the conformance kit for executor backends.
struct ExecutorTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executor-test",
        abstract: "Certify an executor backend against the executor ABI, and cancel and release every job the run submitted.",
        discussion: """
            Submits plain commands (true, sh -c "exit 3", sleep 300, echo) under its own dispatcher
            id and checks what list, cancel, release and log_tail make of them. Interrupting the run
            (Ctrl-C) still cancels and releases what it submitted; a job cleanup cannot get rid of
            by --cleanup-deadline is named and the exit status is non-zero.
            """)

    @OptionGroup var options: DriverOptions

    @Option(help: "Executor backend id to test (as `cloud-dispatch drivers` shows it).")
    var executor: String

    @Option(help: ArgumentHelp("File holding the backend's configuration, a JSON object.", valueName: "file"))
    var config: String

    @Option(help: "Dispatcher id for the run; keep it apart from production ones.")
    var dispatcherID = "cdx-conformance"

    @Option(help: "Partition to submit to (default: the first that takes a small job).")
    var partition: String?

    @Option(help: ArgumentHelp("Seconds a job may take to start or end before a check fails.", valueName: "seconds"))
    var settle: Int = 120

    @Option(help: ArgumentHelp("Seconds cleanup keeps cancelling and releasing before it names what is left.", valueName: "seconds"))
    var cleanupDeadline: Int = 300

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard settle > 0, cleanupDeadline >= 0 else { throw ValidationError("--settle: 1 or more seconds; --cleanup-deadline: 0 or more") }
    }

    func run() async throws {
        let logger = Wiring.logger(level: options.logLevel)
        let configText: String
        do {
            configText = try String(contentsOfFile: config, encoding: .utf8)
        } catch {
            printError("cannot read --config \(config): \(error.localizedDescription)")
            throw ExitCode(2)
        }
        let (folder, report) = await Wiring.loadDrivers(options, logger: logger, only: executor)
        guard let loaded = report.nativeExecutor(id: executor) else {
            let known = report.usableExecutorIDs.joined(separator: ", ")
            printError("no executor backend \"\(executor)\" in \(folder.path) (loaded: \(known.isEmpty ? "none" : known))")
            for r in report.refused { printError("  refused \(r)") }
            throw ExitCode(2)
        }
        var kit = ExecutorKit(executor: loaded, config: configText)
        kit.dispatcherID = dispatcherID
        kit.partition = partition
        kit.settle = .seconds(settle)
        kit.cleanupDeadline = .seconds(cleanupDeadline)
        let quiet = json
        kit.progress = { result in
            if !quiet { printError("\(result.outcome.rawValue) \(result.name)") }
        }
        let configured = kit
        let finished = await DriverTestCommand.runInterruptibly { await configured.run() }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(finished), as: UTF8.self))
        } else {
            print(finished.table())
        }
        for id in finished.leftovers { printError("leftover job \(id): cancel it by hand") }
        if finished.interrupted { throw ExitCode(130) }
        if !finished.succeeded { throw ExitCode(1) }
    }
}
