import DriverHost
import Foundation

/// The checks that run jobs: a job's life as list shows it, exit codes, idempotent submits,
/// cancel, concurrent clients, log_tail and release. Each submits plain commands tagged with
/// its own name, so each lists only its own jobs.
struct JobChecks {
    let session: ExecutorSession
    let backend: NativeBackend
    let partition: PartitionCapacity
    let capabilities: ExecutorCapabilities

    /// What each job asks for: small enough for any partition that takes a job at all.
    static let jobRAM: Int64 = 64 << 20

    func run() async {
        var finished: BackendJob?
        await session.check("true: listed, then ended exited 0") {
            let (job, seen) = try await runToEnd(["true"], check: "true")
            try expectExit(job, 0)
            finished = job
            return "\(job.id): " + seen.map(\.rawValue).joined(separator: " → ") + " exited 0"
        }
        await session.check("exit code 3 is recorded exactly") {
            let (job, _) = try await runToEnd(["sh", "-c", "exit 3"], check: "exit3")
            try expectExit(job, 3)
            return "\(job.id) exited 3"
        }
        await session.check("idempotent re-submit") {
            guard capabilities.idempotentSubmit else { throw Skip("capabilities: idempotent_submit is false") }
            let submission = self.submission(["sleep", "300"], check: "token")
            let first = try await submit(submission)
            let again = try await submit(submission)
            guard again.id == first.id else { throw CheckFailure("the same token gave job \(first.id), then job \(again.id)") }
            let listed = try await backend.list(tags: session.tags(check: "token"))
            guard listed.map(\.id) == [first.id] else {
                throw CheckFailure("one token, \(listed.count) jobs listed: \(listed.map(\.id).joined(separator: " "))")
            }
            return "token \(submission.idempotencyToken) → \(first.id) twice, one job listed"
        }
        await session.check("cancel a running job") {
            let job = try await submit(submission(["sleep", "300"], check: "cancel"))
            _ = try await waitFor(job.id, check: "cancel") { $0.state != .pending }
            try await backend.cancel(jobID: job.id, grace: .seconds(1))
            let ended = try await waitFor(job.id, check: "cancel") { $0.state == .ended }
            guard ended.endReason == .cancelled else {
                throw CheckFailure("\(job.id) ended \(ended.endReason?.rawValue ?? "without a reason"), expected cancelled")
            }
            try await backend.cancel(jobID: job.id, grace: .zero)  // an ended job counts as cancelled
            return "\(job.id): running → ended cancelled; a second cancel is ok"
        }
        await session.check("cancel of an unknown job is not_found") {
            do {
                try await backend.cancel(jobID: "cdx-conformance-no-such-job-\(session.runID)", grace: .zero)
            } catch let error as DriverError where error.errorClass == .notFound {
                return "not_found"
            }
            throw CheckFailure("cancel of a job never submitted answered ok")
        }
        await session.check("\(session.kit.concurrentClients) concurrent clients") {
            let count = session.kit.concurrentClients
            let submissions = (0..<count).map { i in submission(["true"], check: "concurrent", suffix: "-\(i)") }
            let jobs = try await withThrowingTaskGroup(of: BackendJob.self) { group in
                for s in submissions { group.addTask { try await submit(s) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let ids = Set(jobs.map(\.id))
            guard ids.count == count else { throw CheckFailure("\(count) submits made \(ids.count) distinct jobs") }
            let listed = Set(try await backend.list(tags: session.tags(check: "concurrent")).map(\.id))
            guard listed == ids else { throw CheckFailure("listed \(listed.count) of the \(count) jobs") }
            return "\(count) jobs, all listed"
        }
        await session.check("log_tail") {
            guard capabilities.logTail else { throw Skip("capabilities: log_tail is false") }
            let marker = "cdx-conformance-\(session.runID)"
            let (job, _) = try await runToEnd(["echo", marker], check: "log")
            try expectExit(job, 0)
            let text = try await backend.logTail(jobID: job.id, maxBytes: 4096)
            guard text.contains(marker) else { throw CheckFailure("the output of echo \(marker) is not in the tail: \(text.prefix(80))") }
            let short = try await backend.logTail(jobID: job.id, maxBytes: 4)
            return "the tail holds the echoed line; max_bytes 4 gave \(short.utf8.count) bytes"
        }
        await session.check("release forgets an ended job") {
            guard let finished else { throw Skip("no ended job (see the true check)") }
            try await backend.release(jobIDs: [finished.id])
            let listed = try await backend.list(tags: session.tags(check: "true"))
            guard !listed.contains(where: { $0.id == finished.id }) else { throw CheckFailure("\(finished.id) is still listed") }
            return "\(finished.id) no longer listed"
        }
    }

    // MARK: - Helpers

    func submission(_ command: [String], check: String, suffix: String = "") -> JobSubmission {
        let token = "\(session.runID)-\(check)\(suffix)"
        let container = JobContainer(
            uuid: "cdx-\(token)", command: command, vcpus: 1, ram: Self.jobRAM, maxRunTime: 600)
        return JobSubmission(container: container, partition: partition.name, idempotencyToken: token, tags: session.tags(check: check))
    }

    /// Submits, riding out throttling (the kit must not fail a cluster for pacing it), and
    /// remembers the job for cleanup.
    /// Throttling and passing faults, and "no room now": the kit's own jobs end within seconds,
    /// so a backend as small as this machine (the local one, 2 vCPUs) takes the next one soon.
    static func isWorthRetrying(_ errorClass: ErrorClass) -> Bool {
        switch errorClass {
        case .capacityType, .capacityFamily, .capacityGlobal, .quota: true
        case .internal: false
        default: Cleanup.isRetryable(errorClass)
        }
    }

    func submit(_ submission: JobSubmission) async throws -> BackendJob {
        let end = ContinuousClock.now + session.kit.settle
        var attempt = 0
        while true {
            do {
                let job = try await backend.submit(submission)
                session.remember(job)
                guard job.partition == submission.partition else {
                    throw CheckFailure("submitted to \(submission.partition), job \(job.id) is in \(job.partition)")
                }
                return job
            } catch let error as DriverError where Self.isWorthRetrying(error.errorClass) {
                guard ContinuousClock.now < end else { throw error }
                try await Task.sleep(for: session.kit.retryDelay.delay(attempt: attempt, hint: error.retryAfter))
                attempt += 1
            }
        }
    }

    /// Submits `command`, checks list shows the job at once, then waits for it to end; the
    /// states seen on the way, which must never go backwards.
    func runToEnd(_ command: [String], check: String) async throws -> (BackendJob, [BackendJob.State]) {
        let job = try await submit(submission(command, check: check))
        let first = try await backend.list(tags: session.tags(check: check))
        guard let listed = first.first(where: { $0.id == job.id }) else {
            throw CheckFailure("\(job.id) is not listed right after submit")
        }
        var seen = [job.state]
        if listed.state != seen.last { seen.append(listed.state) }
        let ended = try await waitFor(job.id, check: check) { current in
            if current.state != seen.last { seen.append(current.state) }
            return current.state == .ended
        }
        let order: [BackendJob.State] = [.pending, .running, .ended]
        let ranks = seen.map { order.firstIndex(of: $0)! }
        guard ranks == ranks.sorted() else {
            throw CheckFailure("\(job.id) went " + seen.map(\.rawValue).joined(separator: " → "))
        }
        return (ended, seen)
    }

    /// Lists until job `id` satisfies `done`, for at most the kit's settle time.
    func waitFor(_ id: String, check: String, _ done: (BackendJob) -> Bool) async throws -> BackendJob {
        let end = ContinuousClock.now + session.kit.settle
        var attempt = 0
        while true {
            let jobs = try await backend.list(tags: session.tags(check: check))
            guard let job = jobs.first(where: { $0.id == id }) else { throw CheckFailure("\(id) is no longer listed") }
            if done(job) { return job }
            guard ContinuousClock.now < end else {
                throw CheckFailure("\(id) still \(job.state.rawValue) after \(session.kit.settle)")
            }
            try await Task.sleep(for: session.kit.retryDelay.delay(attempt: attempt, hint: nil))
            attempt += 1
        }
    }

    func expectExit(_ job: BackendJob, _ code: Int) throws {
        guard job.endReason == .exited, job.exitCode == code else {
            let how = job.endReason.map { $0 == .exited ? "exited \(job.exitCode.map(String.init) ?? "null")" : $0.rawValue } ?? "?"
            throw CheckFailure("\(job.id) ended \(how)\(job.message.isEmpty ? "" : " (\(job.message))"), expected exited \(code)")
        }
    }
}
