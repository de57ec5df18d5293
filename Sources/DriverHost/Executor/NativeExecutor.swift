import Foundation
import JSON
import Logging
import PluginABI

/// An executor backend loaded from a `libcdx_<name>.so`. As `NativeDriver`: every call runs on
/// the blocking pool under the call timeout, every reply is checked against the executor
/// schema before use, and a misbehaving backend yields a `DriverError` of class `internal`.
///
///     let report = await loader.load(folder: folder)
///     let slurm = try #require(report.executor(id: "slurm"))
///     let backend = try await slurm.openBackend(dispatcherID: "prod-1", config: #"{"partition":"batch"}"#)
public final class NativeExecutor: ExecutorPlugin, @unchecked Sendable {
    // @unchecked: `table` is written once by cdx_open before this object exists and is only
    // read afterwards; the backend promises its members are thread-safe.
    public let info: DriverInfo
    public let agreed: ABIVersion
    let table: UnsafeMutablePointer<cdx_executor>
    let pool: BlockingPool
    let callTimeout: Duration
    let logger: Logger

    init(
        info: DriverInfo, agreed: ABIVersion, table: UnsafeMutablePointer<cdx_executor>, pool: BlockingPool, callTimeout: Duration,
        logger: Logger
    ) {
        self.info = info
        self.agreed = agreed
        self.table = table
        self.pool = pool
        self.callTimeout = callTimeout
        self.logger = logger
    }

    public func capabilities() async throws(DriverError) -> ExecutorCapabilities {
        let reply = try await call(.capabilities) { executor, out, err in
            let t = executor.table.pointee
            return t.capabilities!(t.executor_ctx, out, err)
        }
        return try DriverReply.decode(ExecutorCapabilities.self, reply, driver: info.id, named: ExecutorOperation.capabilities.rawValue)
    }

    public func openBackend(dispatcherID: String, config: String) async throws(DriverError) -> any ExecutorBackend {
        try await openNativeBackend(dispatcherID: dispatcherID, config: config)
    }

    /// `openBackend`, returning the concrete type (for raw calls in the conformance kit).
    public func openNativeBackend(dispatcherID: String, config: String) async throws(DriverError) -> NativeBackend {
        let operation = ExecutorOperation.openBackend.rawValue
        guard RequestLimits.isValidSetID(dispatcherID) else {
            throw DriverError(
                .invalid, "dispatcher id \"\(dispatcherID.prefix(80))\": \(RequestLimits.setIDRule)", driver: info.id, operation: operation)
        }
        let handle: BackendHandle
        do {
            handle = try await pool.run(timeout: callTimeout) { [self] () -> Result<BackendHandle, DriverError> in
                var error = NativeCall.makeErrorRecord()
                var backend: OpaquePointer?
                let t = table.pointee
                let status = t.open_backend!(t.executor_ctx, dispatcherID, config, &backend, &error)
                if status != CDD_OK { return .failure(caller.error(status, error, operation: operation)) }
                guard let backend else {
                    return .failure(DriverError(.internal, "open_backend returned ok without a backend", driver: info.id, operation: operation))
                }
                return .success(BackendHandle(raw: backend))
            }.get()
        } catch let failure as BlockingPool.Failure {
            throw caller.poolError(failure, operation: operation)
        } catch let error as DriverError {
            throw error
        } catch {
            throw DriverError(.internal, "\(error)", driver: info.id, operation: operation)
        }
        return NativeBackend(dispatcherID: dispatcherID, executor: self, handle: handle)
    }

    // MARK: - Calling into the backend

    var caller: NativeCall { NativeCall(plugin: info.id, pool: pool, timeout: callTimeout, logger: logger) }

    typealias RawCall =
        @Sendable (NativeExecutor, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, UnsafeMutablePointer<cdd_error>) -> Int32

    /// Runs one JSON-returning member and returns its reply, checked against the reply schema.
    func call(_ operation: ExecutorOperation, request: String? = nil, _ body: @escaping RawCall) async throws(DriverError) -> JSONValue {
        try await caller.run(operation, request: request, free: { [self] in table.pointee.free_string!(table.pointee.executor_ctx, $0) }) {
            [self] out, err in body(self, out, err)
        }
    }
}

/// An open backend's handle, as the backend returned it.
struct BackendHandle: @unchecked Sendable {
    // @unchecked: an opaque pointer the backend declares thread-safe to use from any thread.
    let raw: OpaquePointer
}
