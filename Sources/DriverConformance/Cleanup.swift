import DriverHost

/// Destroys what a run created and waits until the listing no longer shows it, riding out
/// throttling and transient errors until a deadline. A cloud that throttles a burst of
/// destroys is normal; giving up at the first `rate_limit` left billed instances running.
///
///     let cleanup = Cleanup(set: set, filter: kitTags, created: ids, deadline: .seconds(600),
///                           backoff: RetryDelay(initial: .seconds(1), cap: .seconds(30)))
///     let outcome = await cleanup.run()
///     outcome.leftovers   // ids still listed (or never confirmed gone) when it stopped
struct Cleanup {
    let set: NativeInstanceSet
    /// Lists the kit's instances, this run's and any earlier run's in the same set.
    let filter: [String: String]
    /// Every id the run's creates returned: these must be gone from the listing.
    let created: Set<String>
    let deadline: Duration
    let backoff: RetryDelay
    let maxDestroyBatch: Int

    struct Outcome {
        var destroyed: Set<String> = []
        var leftovers: [String] = []
        var retries = 0
        /// Why it stopped with leftovers: the last refusal, or the deadline.
        var reason = ""
    }

    /// Classes worth repeating a destroy or list for: the call may well work later.
    static func isRetryable(_ errorClass: ErrorClass) -> Bool {
        switch errorClass {
        case .rateLimit, .transient, .internal: true  // internal: also a call that timed out
        default: false
        }
    }

    func run() async -> Outcome {
        let end = ContinuousClock.now + deadline
        var outcome = Outcome()
        // The first round destroys every id the run still owns, listed yet or not (a
        // destroy of a gone id counts as destroyed); later rounds whatever is still listed.
        var toDestroy = created
        var pending = created  // not yet seen gone from the listing
        var attempt = 0
        while true {
            var hint: Duration?
            do throws(DriverError) {
                for batch in toDestroy.sorted().chunked(by: max(1, maxDestroyBatch)) {
                    let result = try await set.destroy(ids: Array(batch))
                    outcome.destroyed.formUnion(result.destroyed)
                    toDestroy.subtract(result.destroyed)
                    if let failure = result.failed.first {
                        outcome.reason = "destroy \(failure.id): \(failure.class.name): \(failure.message)"
                    }
                }
                let listed = Set(try await set.list(tags: filter).map(\.id))
                pending = listed.union(toDestroy)
                if pending.isEmpty { return outcome }
                toDestroy.formUnion(listed)
            } catch {
                outcome.reason = "\(error)"
                guard Self.isRetryable(error.errorClass) else { break }
                hint = error.retryAfter
            }
            let now = ContinuousClock.now
            if now >= end {
                outcome.reason = "gave up after \(deadline); last error: \(outcome.reason.isEmpty ? "none" : outcome.reason)"
                break
            }
            // Also after a destroy that worked: the listing may take a moment to catch up.
            try? await Task.sleep(for: min(backoff.delay(attempt: attempt, hint: hint), end - now))
            attempt += 1
            outcome.retries += 1
        }
        outcome.leftovers = pending.sorted()
        return outcome
    }
}

extension Array {
    func chunked(by size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
