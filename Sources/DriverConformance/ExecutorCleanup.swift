import DriverHost

/// Cancels and releases every job the kit submitted, riding out throttling and transient
/// errors until a deadline: ended jobs are released, the others cancelled, until listing the
/// kit's tag shows nothing and every submitted id is gone.
///
///     let cleanup = ExecutorCleanup(backend: backend, filter: [ExecutorKit.kitTag: "1"], submitted: ids,
///                                   deadline: .seconds(300), backoff: RetryDelay(initial: .milliseconds(200), cap: .seconds(5)))
///     let outcome = await cleanup.run()
///     outcome.leftovers   // job ids still listed when it stopped
struct ExecutorCleanup {
    let backend: NativeBackend
    /// Lists the kit's jobs, this run's and any earlier run's under the same dispatcher id.
    let filter: [String: String]
    /// Every id this run's submits returned (a job the listing never showed still gets a cancel).
    let submitted: Set<String>
    let deadline: Duration
    let backoff: RetryDelay

    struct Outcome {
        var cancelled = 0
        var released = 0
        var leftovers: [String] = []
        var reason = ""
    }

    func run() async -> Outcome {
        let end = ContinuousClock.now + deadline
        var outcome = Outcome()
        var cancelled: Set<String> = []
        var unlisted = submitted  // cancelled once even when list does not show them
        var attempt = 0
        var left: [String] = submitted.sorted()
        while true {
            var hint: Duration?
            do throws(DriverError) {
                let jobs = try await backend.list(tags: filter)
                left = jobs.map(\.id).sorted()
                if jobs.isEmpty && unlisted.isEmpty { return outcome }
                for job in jobs where job.state != .ended && !cancelled.contains(job.id) {
                    try await backend.cancel(jobID: job.id, grace: .zero)
                    cancelled.insert(job.id)
                    outcome.cancelled += 1
                }
                for id in unlisted.subtracting(jobs.map(\.id)) where !cancelled.contains(id) {
                    do throws(DriverError) {
                        try await backend.cancel(jobID: id, grace: .zero)
                    } catch where error.errorClass == .notFound {}
                    cancelled.insert(id)
                }
                unlisted = []
                let ended = jobs.filter { $0.state == .ended }.map(\.id)
                if !ended.isEmpty {
                    try await backend.release(jobIDs: ended)
                    outcome.released += ended.count
                }
            } catch {
                outcome.reason = "\(error)"
                guard Cleanup.isRetryable(error.errorClass) else { break }
                hint = error.retryAfter
            }
            let now = ContinuousClock.now
            if now >= end {
                outcome.reason = "gave up after \(deadline); last error: \(outcome.reason.isEmpty ? "none" : outcome.reason)"
                break
            }
            // Cancelled jobs take a moment to end before they can be released.
            try? await Task.sleep(for: min(backoff.delay(attempt: attempt, hint: hint), end - now))
            attempt += 1
        }
        outcome.leftovers = left
        return outcome
    }
}
