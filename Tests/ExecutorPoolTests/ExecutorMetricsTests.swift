import ExecutorPool
import Prometheus
import Testing

/// /metrics in executor mode: every number carries the backend's id.
@Suite struct ExecutorMetricsTests {
    @Test func jobsSubmitsAndFailedRoundsAreCountedUnderTheBackendsName() async throws {
        let registry = PrometheusCollectorRegistry()
        let world = try ExecutorWorld(partitions: [.init(name: "batch", vcpus: 2, ram: 8 << 30)]) {
            $0.metrics = ExecutorMetrics(factory: PrometheusMetricsFactory(registry: registry), executor: "fake")
        }
        for _ in 0..<3 { try await world.submit() }
        await world.tick()
        world.backend.startPending()
        world.backend.faults.refuseSubmits = .capacityType
        await world.tick()
        world.backend.faults.failLists = 1
        await world.tick()
        let text = registry.emitToString()
        #expect(text.contains(#"cloud_dispatch_executor_jobs{executor="fake",state="running"} 2"#), "\(text)")
        #expect(text.contains(#"cloud_dispatch_executor_containers_waiting{executor="fake"} 1"#), "\(text)")
        #expect(text.contains(#"cloud_dispatch_executor_submits_total{executor="fake",result="ok"} 2"#), "\(text)")
        #expect(text.contains(#"cloud_dispatch_executor_rounds_failed_total{executor="fake",call="list"} 1"#), "\(text)")
        await world.close()
    }
}
