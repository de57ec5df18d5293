import CoreMetrics
import DriverHost
import Foundation
import Prometheus
import Queue
import Scheduler
import Testing
import WorkerPool

/// The dispatcher's metrics after a simulated run, and a reconfiguration while it runs.
@Suite struct MetricsTests {
    /// A world whose dispatcher reports to its own Prometheus registry, through a metered instance set.
    static func metered(_ world: SimWorld, limits: Limits? = nil) -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets = DispatchMetrics.histogramBuckets
        let metrics = DispatchMetrics(factory: factory)
        let pool = WorkerPool(settings: world.settings, instanceSet: MeteredInstanceSet(world.set, metrics: metrics),
                              executor: world.executor, types: SimWorld.types, logger: SimWorld.quiet, intents: world.store)
        world.dispatcher = Dispatcher(id: "sim-dispatcher", store: world.store, pool: pool, types: SimWorld.types,
                                      limits: limits ?? world.limits, logger: SimWorld.quiet, metrics: metrics)
        return registry
    }

    /// A container started between rounds counts in the queue-to-start histogram like any other.
    @Test func anArrivalCountsAsAStart() async throws {
        let world = try await SimWorld()
        try await withWorld(world) { world in
            let registry = Self.metered(world)
            world.now = Date().timeIntervalSince1970
            try await world.submit(1, seconds: 600)
            #expect(try await world.run { await world.dispatcher.pool.runningContainers.count == 1 })
            #expect(value(registry.emitToString(), "cloud_dispatch_containers_queue_to_start_seconds_count") == 1)
            let arrival = try await world.submit(1, seconds: 600)[0]  // the other vCPU of that small instance
            await world.dispatcher.placeArrivals(now: world.now)
            #expect(try await world.store.get(arrival).state == .running)
            #expect(value(registry.emitToString(), "cloud_dispatch_containers_queue_to_start_seconds_count") == 2)
        }
    }

    @Test func metricsArePresentAndMoveDuringARun() async throws {
        let world = try await SimWorld()
        let registry = Self.metered(world)
        world.now = Date().timeIntervalSince1970  // the queue stamps containers with the wall clock
        let uuids = try await world.submit(6, seconds: 600)

        // Mid-run: instances are up and containers run.
        let running = try await world.run { await world.dispatcher.pool.runningContainers.count == 6 }
        #expect(running)
        var text = registry.emitToString()
        #expect(value(text, "cloud_dispatch_containers_running") == 6)
        #expect((value(text, "cloud_dispatch_instances", ["state": "running"]) ?? 0) >= 1)
        #expect((value(text, "cloud_dispatch_instances_price_per_hour", ["state": "running"]) ?? 0) > 0)
        #expect((value(text, "cloud_dispatch_instances_vcpus", ["state": "running"]) ?? 0) >= 6)
        #expect((value(text, "cloud_dispatch_instances_ram_bytes", ["state": "running"]) ?? 0) > 0)
        #expect((value(text, "cloud_dispatch_spend_rate_per_hour") ?? 0) > 0)
        #expect((value(text, "cloud_dispatch_driver_operations_total", ["operation": "create", "error": "none", "driver": "sim"]) ?? 0) >= 1)
        #expect((value(text, "cloud_dispatch_driver_operations_total", ["operation": "list", "error": "none"]) ?? 0) >= 1)
        #expect((value(text, "cloud_dispatch_boot_outcomes_total", ["outcome": "ready"]) ?? 0) >= 1)
        #expect((value(text, "cloud_dispatch_instances_time_to_ssh_seconds_count") ?? 0) >= 1)
        #expect((value(text, "cloud_dispatch_instances_time_to_ready_seconds_count") ?? 0) >= 1)
        #expect(value(text, "cloud_dispatch_containers_queue_to_start_seconds_count") == 6)
        #expect(value(text, "cloud_dispatch_containers_waiting") == 0)
        #expect(value(text, "cloud_dispatch_at_quota") == 0)
        #expect(value(text, "cloud_dispatch_probe_age_seconds_max") != nil)
        let spentMidway = value(text, "cloud_dispatch_spend_so_far") ?? 0
        #expect(spentMidway > 0)

        // To the end: everything done, idle instances shut down; running and waiting go back to 0.
        let done = try await world.run {
            guard try await world.allFinal() else { return false }
            return await world.dispatcher.pool.snapshot(now: world.now).workers.allSatisfy { $0.state == .shutdown }
        }
        #expect(done)
        for uuid in uuids { #expect(try await world.store.get(uuid).state == .complete) }
        text = registry.emitToString()
        #expect(value(text, "cloud_dispatch_containers_running") == 0)
        #expect(value(text, "cloud_dispatch_instances", ["state": "running"]) == 0)
        #expect((value(text, "cloud_dispatch_driver_operations_total", ["operation": "destroy", "error": "none"]) ?? 0) >= 1)
        #expect((value(text, "cloud_dispatch_spend_so_far") ?? 0) > spentMidway)
        await world.close()
    }

    @Test func waitingContainersShowTheLongestWaitAndQuota() async throws {
        let world = try await SimWorld()
        // One instance allowed, containers too big to share it: the rest wait, at max_instances.
        let registry = Self.metered(world, limits: Limits(maxInstances: 1, idleTimeout: 120))
        world.now = Date().timeIntervalSince1970
        try await world.submit(3, seconds: 3600, vcpus: 12)
        _ = try await world.run(limit: 300) { false }
        let text = registry.emitToString()
        #expect(value(text, "cloud_dispatch_at_quota") == 1)
        #expect(value(text, "cloud_dispatch_containers_waiting") == 2)
        #expect((value(text, "cloud_dispatch_containers_longest_wait_seconds") ?? 0) >= 250)
        #expect(value(text, "cloud_dispatch_limit_max_instances") == 1)
        await world.close()
    }

    @Test func reconfigureKeepsInstancesAndContainers() async throws {
        let world = try await SimWorld()
        let registry = Self.metered(world)
        let uuids = try await world.submit(4, seconds: 900)
        #expect(try await world.run { await world.dispatcher.pool.runningContainers.count == 4 })
        let before = await world.dispatcher.pool.snapshot(now: world.now).workers.map(\.id)

        // "small" is dropped from the configuration, limits and timeouts change.
        var settings = await world.dispatcher.pool.settings
        settings.bootTimeout = 100
        await world.dispatcher.reconfigure(types: [SimWorld.types[1]], maxPriceFactor: 2, limits: Limits(maxInstances: 3, idleTimeout: 30),
                                           poolSettings: settings)
        await world.dispatcher.tickAndSettle(now: world.now)
        #expect(world.dispatcher.limits.maxInstances == 3)
        #expect(await world.dispatcher.pool.settings.bootTimeout == 100)
        let after = await world.dispatcher.pool.snapshot(now: world.now)
        #expect(Set(after.workers.map(\.id)) == Set(before))  // nothing dropped
        #expect(await world.dispatcher.pool.runningContainers.count == 4)
        #expect(after.workers.allSatisfy { $0.typeName != "small" || $0.idleBehavior == .drain })
        #expect(after.workers.allSatisfy { $0.typeName != "small" || $0.price > 0 })  // still billed at its price
        #expect(value(registry.emitToString(), "cloud_dispatch_limit_max_instances") == 3)

        #expect(try await world.run { try await world.allFinal() })
        for uuid in uuids {
            let c = try await world.store.get(uuid)
            #expect(c.state == .complete && c.exitCode == 0)
        }
        await world.close()
    }
}

/// A sample's value from Prometheus text: the first line of `name` whose labels include `labels`.
func value(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        let head = line.prefix { $0 != " " }
        let metric = head.prefix { $0 != "{" }
        guard metric == name else { continue }
        let labelText = head.dropFirst(metric.count)
        if labels.allSatisfy({ labelText.contains("\($0.key)=\"\($0.value)\"") }) {
            return Double(line.split(separator: " ").last ?? "")
        }
    }
    return nil
}
