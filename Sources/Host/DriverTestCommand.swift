import ArgumentParser
import Dispatch
import DriverConformance
import DriverHost
import Foundation

/// `cloud-dispatch driver-test`: the conformance kit.
struct DriverTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "driver-test",
        abstract: "Certify a driver against the ABI contract, and clean up everything the run created.",
        discussion: """
            Drivers that declare themselves simulated (loopback, sim) are exercised fully. A real
            cloud's driver creates instances only with --live; without it the checks that create
            are skipped. Interrupting the run (Ctrl-C) still destroys what it created. Cleanup
            retries through throttling until --cleanup-deadline, then names every instance left
            and exits non-zero.
            """)

    @OptionGroup var options: DriverOptions

    @Option(help: "Driver id to test (as `cloud-dispatch drivers` shows it).")
    var driver: String

    @Option(help: ArgumentHelp("File holding the driver's instance-set configuration, a JSON object.", valueName: "file"))
    var config: String

    @Flag(help: "Allow creating real (billed) instances with a real cloud's driver.")
    var live = false

    @Option(help: "Instance-set id for the run; keep it apart from production sets.")
    var instanceSet = "cdd-conformance"

    @Option(help: "Provider instance type to create (default: the cheapest in the catalogue).")
    var instanceType: String?

    @Option(help: "Image to create instances from, where the driver needs one.")
    var image: String?

    @Option(help: ArgumentHelp("Seconds to wait for changes to show in list.", valueName: "seconds"))
    var settle: Int = 60

    @Option(
        help: ArgumentHelp(
            "Seconds cleanup keeps retrying destroy and list through throttling and transient errors before it lists what is left and fails.",
            valueName: "seconds"))
    var cleanupDeadline: Int = 600

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard cleanupDeadline >= 0 else { throw ValidationError("--cleanup-deadline: seconds, 0 or more") }
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
        let (folder, report) = await Wiring.loadDrivers(options, logger: logger, only: driver)
        guard let loaded = report.driver(id: driver) else {
            let known = report.usableIDs.joined(separator: ", ")
            printError("no driver \"\(driver)\" in \(folder.path) (loaded: \(known.isEmpty ? "none" : known))")
            for r in report.refused { printError("  refused \(r)") }
            throw ExitCode(2)
        }
        var kit = ConformanceKit(driver: loaded, config: configText)
        kit.live = live
        kit.instanceSetID = instanceSet
        kit.providerType = instanceType
        kit.image = image
        kit.settle = .seconds(settle)
        kit.cleanupDeadline = .seconds(cleanupDeadline)
        let quiet = json
        kit.progress = { result in
            if !quiet { printError("\(result.outcome.rawValue) \(result.name)") }
        }
        let configured = kit
        let finished = await Self.runInterruptibly { await configured.run() }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(finished), as: UTF8.self))
        } else {
            print(finished.table())
        }
        // On stderr too, whatever the format: these instances are still running and billed.
        for id in finished.leftovers { printError("leftover instance \(id): destroy it by hand") }
        if finished.interrupted { throw ExitCode(130) }
        if !finished.succeeded { throw ExitCode(1) }
    }

    /// Runs `body`; SIGINT or SIGTERM cancels it (the kit then cleans up and returns).
    static func runInterruptibly<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
        let task = Task { await body() }
        let sources = [SIGINT, SIGTERM].map { signalNumber -> DispatchSourceSignal in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                printError("interrupted: cleaning up what this run created")
                task.cancel()
            }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        return await task.value
    }
}
