import Benchmarks
import DriverHost
import Foundation
import Logging
import Queue
import SQLiteQueue
import TestSupport
import Testing

/// Each bench harness, run tiny in this process: no daemon, no plugins folder of the host's.
@Suite struct BenchmarksTests {
    static let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

    /// A fresh SQLite queue in its own folder.
    func store() throws -> (SQLiteContainerStore, String) {
        let folder = Harness.temporaryFolder()
        return (try SQLiteContainerStore.open(path: folder + "/queue.sqlite3"), folder)
    }

    /// The sim driver, loaded through the ABI as `bench` loads it.
    func sim() throws -> NativeDriver {
        let plugins = Harness.temporaryFolder()
        try FileManager.default.copyItem(atPath: Harness.buildFolder + "/libcdd_sim.so", toPath: plugins + "/libcdd_sim.so")
        chmod(plugins + "/libcdd_sim.so", 0o755)
        let report = DriverLoader(pool: BlockingPool(name: "sim", threads: 2), logger: Self.quiet).loadNow(folder: plugins)
        guard let driver = report.driver(id: "sim") else { throw HarnessError("sim driver not loaded: \(report.refused)") }
        return driver
    }

    @Test func queueThroughputSubmitsLocksAndStartsEveryContainer() async throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var seen: [String] = []
        let result = try await QueueThroughput(count: 7, batch: 3, clients: 2).run(store) { seen.append($0.label) }
        #expect(seen == ["submit, 1 per request", "submit, 1 per request, 2 clients", "submit, 3 per request", "lock, 1 per request",
                         "lock, 3 per request", "start, 1 per request"])
        #expect([result.submitSingle, result.submitConcurrent, result.submitBatched].map(\.containers) == [7, 7, 7])
        #expect(result.lockSingle.containers + result.lockBatched.containers == 7)
        #expect(result.startSingle.containers == 7)
        #expect(try await store.list(ContainerQuery(states: [.running], limit: 100)).items.count == 7)
        #expect(try await store.list(ContainerQuery(states: [.queued], limit: 100)).items.count == 14)
        #expect(result.summary.hasPrefix("summary: submit ") && result.submitSingle.rate > 0)
        let figures = result.figures(store: "postgresql")
        #expect(figures.map(\.name) == ["submit, 1 per request, 1 client", "submit, 1 per request, 2 clients", "submit, 3 per request",
                                        "lock, 1 per request", "lock, 3 per request", "start (transition), 1 per request"])
        #expect(figures[0].met == nil, "one client's rate is a latency, not the server's rate")
        #expect(figures[1].line.hasPrefix("figure\tqueue (postgresql)\tsubmit, 1 per request, 2 clients\t") && figures[1].line.contains("\t≥ 2,000/s\t"))
        #expect(result.figures(store: "sqlite").allSatisfy { $0.met == nil }, "no target is set for SQLite")
        await store.close()
    }

    /// The `figure` line `make bench` reads: a verdict against the target, numbers people can read.
    @Test func aFigureLineCarriesItsTargetAndVerdict() {
        #expect(BenchFigure("cost", "efficiency", 98.76, "%", .atLeast(90)).line == "figure\tcost\tefficiency\t98.8%\t≥ 90%\tpass")
        #expect(BenchFigure("ramp", "calls", 125, "", .atMost(10)).line == "figure\tramp\tcalls\t125\t≤ 10\tmiss")
        #expect(BenchFigure("queue", "lock", 1_234_567.4, "/s", .none).line == "figure\tqueue\tlock\t1,234,567/s\t-\t-")
        #expect(BenchFigure("x", "y", 0.5, " ms", .atMost(50)).line == "figure\tx\ty\t0.50 ms\t≤ 50 ms\tpass")
    }

    @Test func schedulerWorkloadIsDeterministicAndTimed() {
        let a = SchedulerWorkload(containers: 50, instances: 5, seed: 7)
        let b = SchedulerWorkload(containers: 50, instances: 5, seed: 7)
        #expect(a.demands == b.demands && a.fleet == b.fleet && a.types.count == 50)
        #expect(a.demands.filter { if case .running = $0.state { true } else { false } }.count == 5)
        let timing = a.timePass(repeats: 2)
        #expect(timing.containers == 50 && timing.instances == 5 && timing.decisions > 0 && timing.seconds > 0)
        #expect(timing.line.split(separator: " ", omittingEmptySubsequences: true).count == 5)
    }

    @Test func costSimulationRunsADayAndBillsAtLeastTheLowerBound() async throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let set = try await sim().openInstanceSet(id: "cost-bench", config: #"{"seed": 3}"#)
        let report = try await CostSimulation(count: 12, seed: 3).run(on: set, store: store, logger: Self.quiet)
        await set.close()
        #expect(try await store.list(ContainerQuery(states: [.complete], limit: 100)).items.count == 12)
        #expect(report.bill.instancesCreated > 0 && report.lowerBound > 0)
        #expect(report.bill.billedCost >= report.lowerBound, "the lower bound is a lower bound")
        #expect(report.lines.count == 6 && report.lines[0].hasPrefix("containers: 12,"))
        await store.close()
    }

    @Test func memoryHoldFillsItsFleet() async throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var progress: [String] = []
        let result = try await MemoryHold(queued: 6, instances: 4).run(sim: try sim(), store: store, logger: Self.quiet) { progress.append($0) }
        #expect(result.filled && result.started == 4 && result.instances == 4 && result.waiting == 6, "\(result.lines)")
        #expect(progress.first?.hasPrefix("submitted 10 containers") == true)
        #expect(result.memory.kib > 0)
        await store.close()
    }

    @Test func roundAtDepthFillsTimesRoundsAndLocksProbes() async throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var harness = RoundAtDepth(waiting: 40, running: 6)
        harness.steadyRounds = 3
        harness.changes = 30
        harness.probes = 4
        let result = try await harness.run(sim: try sim(), store: store, logger: Self.quiet)
        #expect(result.filled, "\(result.lines)")
        #expect(result.fullRound.fullRead && result.fullRound.rowsRead == 46, "the full round read every active container")
        #expect(result.steady.count == 3 && result.steady.allSatisfy { !$0.fullRead && $0.rowsRead >= 30 }, "rounds read what changed")
        #expect(result.latencies.milliseconds.count == 4, "every probe was locked")
        #expect(try await store.summaries(ContainerQuery(states: [.queued], limit: 1000)).items.count == 40, "the depth stayed put")
        #expect(result.lines.count == 5 && result.lines[0].contains("target ≤ 500 ms"))
        let figures = result.figures(store: "sqlite").map(\.line)
        #expect(figures.count == 3 && figures[1].hasPrefix("figure\tround 100k/10k (sqlite)\tchange-feed round, median\t"), "\(figures)")
        #expect(figures[2].contains("\t≤ 50 ms\t"), "\(figures)")
        await store.close()
    }

    @Test func aSmallSoakPasses() async throws {
        let (store, folder) = try store()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let soak = SoakRun(count: 30, seed: 5, maxInstances: 6, brokenTypes: ["sim.large"])
        let report = try await soak.run(sim: try sim(), store: store, logger: Self.quiet)
        #expect(soak.passed(report), "\(report)")
        #expect(report.containers == 30)
        await store.close()
    }

    @Test func latencyPercentiles() {
        let l = Latencies([5, 1, 4, 2, 3, 10, 9, 8, 7, 6])
        #expect(l.percentile(0.5) == 6 && l.percentile(0.9) == 10 && l.percentile(0.99) == 10)
        #expect(Latencies([]).percentile(0.5) == 0)
        #expect(l.summary == "p50 6.0 ms, p90 10.0 ms, p99 10.0 ms, max 10.0 ms")
    }
}
