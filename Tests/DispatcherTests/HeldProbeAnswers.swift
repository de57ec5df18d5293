import DriverHost
import WorkerPool

/// Workers whose probe answers a test can hold: each answer is taken when the probe is sent and
/// handed back only when `held` opens, so it speaks of the worker as it was before the wait.
struct HeldProbeAnswers: WorkerExecutor {
    let inner: any WorkerExecutor
    let held: Gate

    func probe(_ instance: Instance, now: Double) async -> ProbeResult {
        let answer = await inner.probe(instance, now: now)
        await held.pass()
        return answer
    }

    func start(_ container: ContainerLaunch, on instance: Instance, now: Double) async throws {
        try await inner.start(container, on: instance, now: now)
    }

    func stop(_ uuid: String, on instance: Instance, now: Double) async { await inner.stop(uuid, on: instance, now: now) }
    func release(_ uuid: String, on instance: Instance) async { await inner.release(uuid, on: instance) }
    func instanceGone(_ id: String) async { await inner.instanceGone(id) }
}
