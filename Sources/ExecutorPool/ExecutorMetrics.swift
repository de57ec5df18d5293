import CoreMetrics
import DriverHost
import Scheduler

/// The executor pool's numbers for /metrics, each labelled with the backend's id: this
/// dispatcher's jobs by state, the containers waiting, submits by result, failed rounds.
public struct ExecutorMetrics: Sendable {
    let factory: any MetricsFactory
    let executor: String

    public init(factory: any MetricsFactory, executor: String) {
        self.factory = factory
        self.executor = executor
    }

    func roundEnded(jobs: [BackendJob], waiting: Int) {
        for state in [BackendJob.State.pending, .running, .ended] {
            gauge("cloud_dispatch_executor_jobs", [("state", state.rawValue)]).record(jobs.count { $0.state == state })
        }
        gauge("cloud_dispatch_executor_containers_waiting", []).record(waiting)
    }

    func submitted(_ result: String) {
        Counter(label: "cloud_dispatch_executor_submits_total", dimensions: [("executor", executor), ("result", result)], factory: factory)
            .increment()
    }

    func roundFailed(_ call: String) {
        Counter(label: "cloud_dispatch_executor_rounds_failed_total", dimensions: [("executor", executor), ("call", call)], factory: factory)
            .increment()
    }

    private func gauge(_ name: String, _ dimensions: [(String, String)]) -> Gauge {
        Gauge(label: name, dimensions: [("executor", executor)] + dimensions, factory: factory)
    }
}
