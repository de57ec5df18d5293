import ArgumentParser
import Benchmarks
import Config
import Foundation
import PostgresQueue
import Queue

/// `cloud-dispatch bench round`: a dispatcher's round at depth, and submit → lock at that depth.
struct RoundBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "round",
        abstract: "Hold N waiting and M running containers in one dispatcher (sim cloud, virtual clock); print round times and submit → lock latency.",
        discussion: """
            Times a round that reads the whole active queue, then rounds that read only what changed (--changes writes \
            between two, a poll interval apart, the cloud listed and the workers probed at serve's default intervals), then submits --probes containers one at a time with the dispatcher running on queue wake-ups. \
            Runs on a fresh SQLite queue, then, with --postgres, on that PostgreSQL database (it must hold no active containers).
            """)

    @Option(help: "Containers left waiting (no room for them).") var waiting = 100_000
    @Option(help: "Containers running, one per instance.") var running = 10_000
    @Option(help: "Change-feed rounds timed.") var rounds = 20
    @Option(help: "Writes between two timed rounds (submits, cancels, priority changes).") var changes = 300
    @Option(help: "Containers whose submit → lock time is measured.") var probes = 200
    @Option(help: ArgumentHelp("Also run on this PostgreSQL database.", valueName: "url")) var postgres: String?
    @OptionGroup var options: DriverOptions

    func run() async throws {
        let bench = try await SimBench(name: "round", options: options)
        defer { bench.removeFolder() }
        var harness = RoundAtDepth(waiting: waiting, running: running)
        harness.steadyRounds = rounds
        harness.changes = changes
        harness.probes = probes
        // Rounds as serve runs them on the default configuration: a round every poll interval,
        // the cloud listed and the workers probed at their intervals, not every round.
        let defaults = Configuration(stateDir: FileManager.default.temporaryDirectory.path)
        harness.roundSpacing = defaults.workers.pollInterval
        harness.tune = { DispatchWiring.applyTimeouts(defaults, to: &$0) }
        var ok = try await measure(harness, "sqlite", store: bench.store, bench: bench)
        if let postgres {
            let store = try await PostgresContainerStore.open(url: postgres, logger: bench.logger)
            let active = try await store.summaries(ContainerQuery(states: [.queued, .locked, .running], limit: 1))
            guard active.items.isEmpty else {
                await store.close()
                throw ValidationError("--postgres: the database already holds active containers; give the benchmark an empty one")
            }
            ok = try await measure(harness, "postgresql", store: store, bench: bench) && ok
        }
        if !ok { throw ExitCode(1) }
    }

    /// Runs the harness on one store and prints its lines; false when the fleet did not fill.
    private func measure(_ harness: RoundAtDepth, _ name: String, store: any ContainerStore, bench: SimBench) async throws -> Bool {
        var harness = harness
        harness.instanceSet = "round-bench-\(name)"
        print("\(name): \(waiting) waiting + \(running) running containers")
        let result = try await harness.run(sim: bench.sim, store: store, logger: bench.logger) {
            print("  \($0)")
            fflush(nil)
        }
        await store.close()
        result.lines.forEach { print($0) }
        result.figures(store: name).forEach { print($0.line) }
        if !result.filled { print("the fleet did not fill in \(result.fillRounds) rounds") }
        fflush(nil)
        return result.filled
    }
}
