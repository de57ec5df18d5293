import DriverHost
import WorkerPool

/// Where a test holds a call after it did its work (`Gate`: every call while closed;
/// `OneCallHold`: the one armed call).
protocol CallHold: Sendable {
    func pass() async
}

/// Workers whose probe answers a test can hold: each answer is taken when the probe is sent and
/// handed back only once `held` lets it pass, so it speaks of the worker as it was before the
/// wait (a probe in flight while something starts a container there).
struct HeldProbeAnswers: WorkerExecutor {
    let inner: any WorkerExecutor
    let held: any CallHold

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
