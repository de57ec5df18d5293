import Foundation
import JSON
import PluginABI
import Units

/// A backend opened on a `NativeExecutor` for one dispatcher. Requests are checked against
/// the executor schema before they leave the host, replies when they come back; a reply that
/// breaks the operation's contract (another token's job, a longer log than asked) is
/// `internal`, as a reply that breaks the schema.
public final class NativeBackend: ExecutorBackend, @unchecked Sendable {
    // @unchecked: `handle` is an opaque pointer the backend declares safe for concurrent use;
    // all mutable state is inside `gate`.
    public let dispatcherID: String
    public let executor: NativeExecutor
    let handle: BackendHandle
    private let gate = CallGate()

    init(dispatcherID: String, executor: NativeExecutor, handle: BackendHandle) {
        self.dispatcherID = dispatcherID
        self.executor = executor
        self.handle = handle
    }

    public var executorID: String { executor.info.id }

    /// Calls currently inside the backend (including ones their callers stopped waiting for).
    public var callsInFlight: Int { gate.inFlight }

    public func capacity() async throws(DriverError) -> [PartitionCapacity] {
        let reply = try await perform(.capacity, "{}")
        return try decode(CapacityReply.self, reply, .capacity).partitions
    }

    public func submit(_ submission: JobSubmission) async throws(DriverError) -> BackendJob {
        let reply = try await perform(.submit, DriverJSON.encode(submission))
        let job = try decode(SubmitReply.self, reply, .submit).job
        guard job.idempotencyToken == submission.idempotencyToken else {
            throw contractError(.submit, "asked with token \(submission.idempotencyToken), got job \(job.id) of token \(job.idempotencyToken)")
        }
        return job
    }

    public func list(tags: [String: String]) async throws(DriverError) -> [BackendJob] {
        let reply = try await perform(.list, DriverJSON.encode(ListRequest(tags: tags)))
        let jobs = try decode(JobsReply.self, reply, .list).jobs
        if let stray = jobs.first(where: { job in tags.contains { job.tags[$0.key] != $0.value } }) {
            throw contractError(.list, "job \(stray.id) does not carry every tag asked for")
        }
        return jobs
    }

    public func cancel(jobID: String, grace: Duration) async throws(DriverError) {
        let graceMS = Int(clamping: grace.inMilliseconds)
        _ = try await perform(.cancel, DriverJSON.encode(CancelRequest(id: jobID, graceMS: max(0, graceMS))))
    }

    public func release(jobIDs: [String]) async throws(DriverError) {
        _ = try await perform(.release, DriverJSON.encode(ReleaseRequest(ids: jobIDs)))
    }

    public func logTail(jobID: String, maxBytes: Int) async throws(DriverError) -> String {
        let reply = try await perform(.logTail, DriverJSON.encode(LogTailRequest(id: jobID, maxBytes: maxBytes)))
        let text = try decode(LogTailReply.self, reply, .logTail).text
        guard text.utf8.count <= maxBytes else {
            throw contractError(.logTail, "asked for at most \(maxBytes) bytes, got \(text.utf8.count)")
        }
        return text
    }

    /// Sends `requestJSON` as is — no request check — and returns the reply, checked against
    /// the operation's reply schema. The conformance kit uses it to send malformed requests.
    public func rawCall(_ operation: ExecutorOperation, _ requestJSON: String) async throws(DriverError) -> JSONValue {
        let backend = handle
        return try await executor.call(operation, request: requestJSON) { [self] executor, out, err in
            // Counted on the pool thread, around the call itself (see NativeInstanceSet.rawCall).
            guard gate.enter() else {
                return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "backend \(dispatcherID) is closed")
            }
            defer { gate.leave() }
            guard let member = operation.member(of: executor.table.pointee) else { return CDD_E_UNSUPPORTED }
            return member(backend.raw, requestJSON, out, err)
        }
    }

    /// Waits (up to the call timeout) for calls in flight, then closes the backend; one with a
    /// call still stuck inside is left open rather than closed under it.
    public func close() async {
        switch await gate.closeAndDrain(within: executor.callTimeout) {
        case nil: return
        case false?:
            executor.logger.warning(
                "executor backend left open: a call is still running", metadata: ["executor": "\(executorID)", "dispatcher": "\(dispatcherID)"])
            return
        case true?: break
        }
        let backend = handle
        let e = executor
        _ = try? await executor.pool.run(timeout: executor.callTimeout) { e.table.pointee.close_backend!(backend.raw) }
    }

    /// Checks the request against its schema before it leaves the host, then calls.
    func perform(_ operation: ExecutorOperation, _ requestJSON: String) async throws(DriverError) -> JSONValue {
        if let refusal = RequestLimits.refusal(of: requestJSON, as: operation, driver: executorID) { throw refusal }
        return try await rawCall(operation, requestJSON)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ value: JSONValue, _ operation: ExecutorOperation) throws(DriverError) -> T {
        try DriverReply.decode(type, value, driver: executorID, named: operation.rawValue)
    }

    private func contractError(_ operation: ExecutorOperation, _ message: String) -> DriverError {
        DriverError(.internal, message, driver: executorID, operation: operation.rawValue)
    }
}
