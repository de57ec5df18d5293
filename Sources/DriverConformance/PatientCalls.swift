import DriverHost

/// The kit's calls through a cloud that throttles: a `rate_limit` answer (the cloud did nothing)
/// is waited out — the driver's retry-after, else `RetryDelay`'s growing wait — and the call
/// sent again, until the kit's settle time passes; then the throttle fails the check. Other
/// errors come back at once: they are what the checks judge. (Without this, one throttle on a
/// real account failed whichever check it happened to hit.)
struct PatientCalls {
    let set: NativeInstanceSet
    let delay: RetryDelay
    let patience: Duration

    func create(_ request: CreateRequest) async throws(DriverError) -> [Instance] {
        try await retrying { () throws(DriverError) in try await set.create(request) }
    }

    func list(tags: [String: String]) async throws(DriverError) -> [Instance] {
        try await retrying { () throws(DriverError) in try await set.list(tags: tags) }
    }

    func setTags(ids: [String], tags: [String: String]) async throws(DriverError) {
        try await retrying { () throws(DriverError) in try await set.setTags(ids: ids, tags: tags) }
    }

    func destroy(ids: [String]) async throws(DriverError) -> DestroyResult {
        try await retrying { () throws(DriverError) in try await set.destroy(ids: ids) }
    }

    private func retrying<T>(_ call: () async throws(DriverError) -> T) async throws(DriverError) -> T {
        let deadline = ContinuousClock.now + patience
        var attempt = 0
        while true {
            do {
                return try await call()
            } catch  where error.errorClass == .rateLimit && ContinuousClock.now < deadline {
                try? await Task.sleep(for: delay.delay(attempt: attempt, hint: error.retryAfter))
                attempt += 1
            }
        }
    }
}
