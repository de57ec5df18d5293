/// The Swift face of an executor backend (`libcdx_<name>.so`): what the host's executor pool
/// uses, whatever language the backend is written in. `NativeExecutor` serves it for a loaded
/// `.so`; tests may serve it with in-memory doubles. Errors are `DriverError`s with the same
/// closed classes as a cloud driver's.
///
///     let backend = try await plugin.openBackend(dispatcherID: "prod-1", config: #"{"partition":"batch"}"#)
///     let job = try await backend.submit(JobSubmission(container: spec, partition: "batch", idempotencyToken: t, tags: tags))
///     let jobs = try await backend.list(tags: ["cloud-dispatch-id": "prod-1"])
public protocol ExecutorPlugin: Sendable {
    var info: DriverInfo { get }
    func capabilities() async throws(DriverError) -> ExecutorCapabilities
    /// Opens the configured cluster for one dispatcher's jobs. `config` is a JSON object.
    func openBackend(dispatcherID: String, config: String) async throws(DriverError) -> any ExecutorBackend
}

/// One configured cluster (or machine), opened for one dispatcher. All methods may be called
/// concurrently; each is bounded by the host's call timeout.
public protocol ExecutorBackend: Sendable {
    var dispatcherID: String { get }
    var executorID: String { get }
    /// What can start now, per partition.
    func capacity() async throws(DriverError) -> [PartitionCapacity]
    /// Runs one container; a repeated token returns the job it made the first time.
    func submit(_ submission: JobSubmission) async throws(DriverError) -> BackendJob
    /// This dispatcher's jobs whose tags include every pair in `tags` (ended ones until released).
    func list(tags: [String: String]) async throws(DriverError) -> [BackendJob]
    /// TERM now, KILL after `grace` if still running. An ended job counts as cancelled.
    func cancel(jobID: String, grace: Duration) async throws(DriverError)
    /// Forgets ended jobs whose results are recorded.
    func release(jobIDs: [String]) async throws(DriverError)
    /// The last `maxBytes` of a job's output.
    func logTail(jobID: String, maxBytes: Int) async throws(DriverError) -> String
    /// Releases the backend; jobs are left as they are.
    func close() async
}
