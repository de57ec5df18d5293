import Foundation
import Units

// What each benchmark's result contributes to `make bench`'s table, with its target.

extension QueueThroughput.Result {
    /// `store`: "sqlite" or "postgresql"; the issues set targets for PostgreSQL submits only. The
    /// one-per-request target is for a server's rate (several clients at once); one client's
    /// rate is one over a call's latency, shown beside it.
    public func figures(store: String) -> [BenchFigure] {
        let postgres = store == "postgresql"
        let bench = "queue (\(store))"
        return [
            BenchFigure(bench, "submit, 1 per request, 1 client", submitSingle.rate, "/s", .none),
            BenchFigure(bench, submitConcurrent.label, submitConcurrent.rate, "/s", postgres ? BenchTargets.postgresSingleSubmits : .none),
            BenchFigure(bench, submitBatched.label, submitBatched.rate, "/s", postgres ? BenchTargets.postgresBatchedSubmits : .none),
            BenchFigure(bench, "lock, 1 per request", lockSingle.rate, "/s", .none),
            BenchFigure(bench, lockBatched.label, lockBatched.rate, "/s", .none),
            BenchFigure(bench, "start (transition), 1 per request", startSingle.rate, "/s", .none),
        ]
    }
}

extension SchedulerWorkload.PassTiming {
    /// The target is for the largest size (100k containers × 10k instances).
    public var figure: BenchFigure {
        let largest = containers >= 100_000 && instances >= 10_000
        return BenchFigure(
            "scheduler pass", "\(BenchFigure.format(Double(containers))) containers × \(BenchFigure.format(Double(instances))) instances", Double(decisions) / seconds, " decisions/s",
            largest ? BenchTargets.schedulerDecisions : .none)
    }
}

extension MemoryHold {
    /// The memory target holds at 100,000 waiting + 10,000 running; other sizes are reported
    /// without. The last round here is the fill round that starts the last of the 10,000 (each
    /// start a read, a worker call and a write): the round target is `bench round`'s.
    public func figures(_ result: Result) -> [BenchFigure] {
        let full = queued >= 100_000 && instances >= 10_000
        let bench = "memory \(queued / 1000)k/\(instances / 1000)k"
        let megabytes = { (kib: Int) in Double(kib) * 1024 / 1_000_000 }
        return [
            BenchFigure(bench, "RSS holding the queue and fleet", megabytes(result.memory.kib), " MB", full ? BenchTargets.memoryMB : .none),
            BenchFigure(bench, "peak RSS (incl. the submit)", megabytes(result.memory.peakKiB), " MB", .none),
            BenchFigure(bench, "the fill round that started the last containers", Double(result.lastRound.inMilliseconds), " ms", .none),
        ]
    }
}

extension CostSimulation.Report {
    public var figures: [BenchFigure] {
        [
            BenchFigure("cost (\(containers) containers)", "efficiency (lower bound / bill)", efficiency, "%", BenchTargets.costEfficiency),
            BenchFigure("cost (\(containers) containers)", "instances destroyed unused", Double(bill.destroyedUnused), "", BenchTargets.costDestroyedUnused),
        ]
    }
}

extension RampUp {
    /// The targets are for 1,000 containers, on any driver.
    public func figures(_ report: Report, driver: String) -> [BenchFigure] {
        let bench = "ramp on \(driver) (\(count) one-VM containers)"
        let held = count == 1_000
        return [
            BenchFigure(bench, "create calls to request them all", Double(report.createCalls), "", held ? BenchTargets.rampCreateCalls : .none),
            BenchFigure(bench, "seconds to request them all", report.seconds, " s", held ? BenchTargets.rampSeconds : .none),
        ]
    }
}

extension Latencies {
    /// `bench dispatch`: submit → runner started.
    public func dispatchFigures(workers: Int) -> [BenchFigure] {
        let bench = "dispatch (\(milliseconds.count) on \(workers) idle workers)"
        return [
            BenchFigure(bench, "submit → started, p50", percentile(0.5), " ms", .none),
            BenchFigure(bench, "submit → started, p99", percentile(0.99), " ms", BenchTargets.dispatchP99),
        ]
    }
}

extension RoundAtDepth.Result {
    /// `bench round`: the first round (a full read), the median change-feed round, submit → locked.
    public func figures(store: String) -> [BenchFigure] {
        let bench = "round 100k/10k (\(store))"
        let totals = steady.map(\.total).sorted()
        let median = totals.isEmpty ? Duration.zero : totals[totals.count / 2]
        return [
            BenchFigure(bench, "first round (full read)", Double(fullRound.total.inMilliseconds), " ms", .none),
            BenchFigure(bench, "change-feed round, median", Double(median.inMilliseconds), " ms", BenchTargets.roundMilliseconds),
            BenchFigure(bench, "submit → locked, p99", latencies.percentile(0.99), " ms", BenchTargets.roundLockP99),
        ]
    }
}
