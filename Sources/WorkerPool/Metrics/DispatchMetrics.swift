import CoreMetrics
import DriverHost
import Scheduler
import Synchronization

/// The dispatcher's metrics, through swift-metrics (the host exports them as Prometheus text).
/// Counters move as things happen; gauges are refreshed once per round from the pool's
/// snapshot (`roundEnded`), so a scrape never waits on the pool. Names: `Name`.
///
///     let metrics = DispatchMetrics(factory: PrometheusMetricsFactory(registry: registry))
///     let dispatcher = Dispatcher(..., metrics: metrics)
public final class DispatchMetrics: Sendable {
    let factory: any MetricsFactory
    private let observed = Mutex(RoundObserver())

    /// `factory` is explicit so several dispatchers (tests) can each have their own registry.
    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Buckets (seconds) for the histograms; a Prometheus factory takes them by name.
    public static let histogramBuckets: [String: [Double]] = [
        Name.timeToSSH: [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200],
        Name.timeToReady: [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200],
        Name.queueToStart: [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600],
    ]

    public func driverCall(driver: String, operation: String, error: ErrorClass?) {
        Counter(
            label: Name.driverOperations,
            dimensions: [("driver", driver), ("operation", operation), ("error", error?.name ?? "none")], factory: factory
        ).increment()
    }

    /// A configuration reload: applied, or refused (the old configuration stays).
    public func configReload(applied: Bool) {
        Counter(label: Name.configReloads, dimensions: [("result", applied ? "applied" : "refused")], factory: factory).increment()
    }

    /// A round not run because this daemon does not hold its dispatcher id's lease.
    public func roundSkipped() {
        Counter(label: Name.roundsSkipped, dimensions: [("reason", "lease")], factory: factory).increment()
    }

    /// A container started `waited` seconds after its submit (by a round, or as an arrival between rounds).
    public func started(waited: Double) {
        Recorder(label: Name.queueToStart, dimensions: [], aggregate: true, factory: factory).record(max(0, waited))
    }

    /// Refreshes every gauge and records what happened since the last round: boots that ended,
    /// containers that started. `demands` is the queue as this round's scheduling pass saw it.
    public func roundEnded(now: Double, snapshot: PoolSnapshot, demands: [ContainerDemand], plan: Plan, limits: Limits) {
        let events = observed.withLock { $0.observe(snapshot, now: now) }
        for event in events {
            switch event {
            case .outcome(let outcome): counter(Name.bootOutcomes, [("outcome", outcome)]).increment()
            case .timeToSSH(let s): Recorder(label: Name.timeToSSH, dimensions: [], aggregate: true, factory: factory).record(s)
            case .timeToReady(let s): Recorder(label: Name.timeToReady, dimensions: [], aggregate: true, factory: factory).record(s)
            }
        }
        let created = Dictionary(demands.map { ($0.uuid, $0.createdAt) }, uniquingKeysWith: { a, _ in a })
        let workers = Dictionary(snapshot.workers.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for start in plan.starts {
            // Started this very round (a start that failed left no placement).
            guard let worker = workers[start.worker], worker.running[start.uuid] == now,
                let at = created[start.uuid]
            else { continue }
            started(waited: now - at)
        }
        publishGauges(now: now, snapshot: snapshot, demands: demands, plan: plan, limits: limits)
    }

    private func publishGauges(now: Double, snapshot: PoolSnapshot, demands: [ContainerDemand], plan: Plan, limits: Limits) {
        var instances: [Labels: Double] = [:]
        var behaviors: [Labels: Double] = [:]
        var price: [Labels: Double] = [:]
        var vcpus: [Labels: Double] = [:]
        var ram: [Labels: Double] = [:]
        var running = 0
        var ages: [Double] = []
        var spendRate = 0.0
        for w in snapshot.workers {
            let state = Labels(["state": w.state.rawValue])
            instances[Labels(["state": w.state.rawValue, "instance_type": w.typeName]), default: 0] += 1
            behaviors[Labels(["idle_behavior": w.idleBehavior.rawValue]), default: 0] += 1
            price[state, default: 0] += w.price
            vcpus[state, default: 0] += Double(w.vcpus)
            ram[state, default: 0] += Double(w.ram)
            running += w.running.count
            if w.destroyedAt == nil {
                spendRate += w.price
                ages.append(now - (w.lastAnswer ?? w.appeared))
            }
        }
        let gauges = observed.withLock { o in
            [
                o.labeled(Name.instances, instances), o.labeled(Name.instancesByBehavior, behaviors), o.labeled(Name.price, price),
                o.labeled(Name.vcpus, vcpus), o.labeled(Name.ram, ram),
            ].flatMap { $0 }
        }
        for (name, labels, value) in gauges { gauge(name, labels.pairs).record(value) }

        ages.sort()
        let started = Set(plan.starts.map(\.uuid))
        let waiting = demands.filter { d in
            if case .running = d.state { return false }
            return d.priority > 0 && !started.contains(d.uuid)
        }
        let count = snapshot.workers.count
        let spent = snapshot.accounting.billedCost
        let plain: [(String, Double)] = [
            (Name.containersRunning, Double(running)),
            (Name.containersWaiting, Double(waiting.count)),
            (Name.longestWait, waiting.map { now - $0.createdAt }.max().map { max(0, $0) } ?? 0),
            (Name.probeAgeMax, ages.last ?? 0),
            (Name.probeAgeMedian, ages.isEmpty ? 0 : ages[ages.count / 2]),
            (Name.atQuota, snapshot.backoff.atQuota(instanceCount: count) || count >= limits.maxInstances ? 1 : 0),
            (Name.credentialsRefused, snapshot.backoff.authFailure == nil ? 0 : 1),
            (Name.typesNotBooting, Double(snapshot.backoff.boot.streaks.keys.filter(snapshot.backoff.boot.notBooting).count)),
            (Name.spendRate, spendRate),
            (Name.spent, spent),
            (Name.instancesCreated, Double(snapshot.accounting.instancesCreated)),
            (Name.maxInstances, Double(limits.maxInstances)),
            (Name.maxHourlySpend, limits.maxHourlySpend ?? 0),
            (Name.idleTimeout, limits.idleTimeout),
        ]
        for (name, value) in plain { gauge(name, []).record(value) }
    }

    private func counter(_ name: String, _ dimensions: [(String, String)]) -> Counter {
        Counter(label: name, dimensions: dimensions, factory: factory)
    }

    private func gauge(_ name: String, _ dimensions: [(String, String)]) -> Gauge {
        Gauge(label: name, dimensions: dimensions, factory: factory)
    }
}

/// Label sets as a hashable value, kept in key order (Prometheus wants one order per name).
struct Labels: Hashable {
    let pairs: [(String, String)]
    init(_ labels: [String: String]) { pairs = labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    static func == (a: Labels, b: Labels) -> Bool { a.pairs.elementsEqual(b.pairs) { $0 == $1 } }
    func hash(into h: inout Hasher) { for (k, v) in pairs { h.combine(k); h.combine(v) } }
}
