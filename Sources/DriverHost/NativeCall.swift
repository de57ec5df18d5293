import Foundation
import JSON
import Logging
import PluginABI

/// One JSON-returning call into a loaded plugin, driver or executor backend alike: run on the
/// blocking pool under a timeout, the reply copied and freed with the plugin's own
/// free_string, traced, size-checked, parsed and checked against the operation's reply
/// schema. A plugin that misbehaves yields a `DriverError` of class `internal`, never a crash
/// or a hang.
///
///     let reply = try await NativeCall(plugin: "slurm", pool: pool, timeout: .seconds(30), logger: logger)
///         .run(ExecutorOperation.list, request: json, free: release) { out, err in member(handle, json, out, err) }
struct NativeCall: Sendable {
    let plugin: String
    let pool: BlockingPool
    let timeout: Duration
    let logger: Logger

    typealias Body = @Sendable (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, UnsafeMutablePointer<cdd_error>) -> Int32

    func run<Operation: PluginOperation>(
        _ operation: Operation, request: String?, free: @escaping @Sendable (UnsafeMutablePointer<CChar>) -> Void,
        _ body: @escaping Body
    ) async throws(DriverError) -> JSONValue {
        let text: String
        do {
            text = try await pool.run(timeout: timeout) { [self] () -> Result<String, DriverError> in
                var error = Self.makeErrorRecord()
                var out: UnsafeMutablePointer<CChar>?
                let status = body(&out, &error)
                defer { if let out { free(out) } }
                guard status == CDD_OK else {
                    let failure = self.error(status, error, operation: operation.rawValue)
                    DriverTrace.shared?.record(driver: plugin, operation: operation, request: request, status: failure.errorClass, reply: nil)
                    return .failure(failure)
                }
                guard let out else {
                    return .failure(DriverError(.internal, "returned ok without a reply", driver: plugin, operation: operation.rawValue))
                }
                let length = strnlen(out, DriverReply.maxBytes + 1)
                guard length <= DriverReply.maxBytes else {
                    return .failure(
                        DriverError(.internal, "reply larger than \(DriverReply.maxBytes) bytes", driver: plugin, operation: operation.rawValue))
                }
                let reply = String(decoding: UnsafeRawBufferPointer(start: out, count: length), as: UTF8.self)
                DriverTrace.shared?.record(driver: plugin, operation: operation, request: request, status: nil, reply: reply)
                return .success(reply)
            }.get()
        } catch let failure as BlockingPool.Failure {
            throw poolError(failure, operation: operation.rawValue)
        } catch let error as DriverError {
            throw error
        } catch {
            throw DriverError(.internal, "\(error)", driver: plugin, operation: operation.rawValue)
        }
        return try DriverReply.parse(text, driver: plugin, operation: operation)
    }

    static func makeErrorRecord() -> cdd_error {
        var error = cdd_error()
        error.struct_size = UInt32(MemoryLayout<cdd_error>.size)
        return error
    }

    /// The error a plugin's status and error record stand for.
    func error(_ status: Int32, _ record: cdd_error, operation: String) -> DriverError {
        let message = CText.line(tuple: record.message, capacity: 512)
        guard let errorClass = ErrorClass(rawValue: status) else {
            return DriverError(.internal, "unknown status \(status): \(message)", driver: plugin, operation: operation)
        }
        return DriverError(
            errorClass, message.isEmpty ? "(no message)" : message, driver: plugin, operation: operation,
            httpStatus: Int(record.http_status),
            providerCode: CText.line(tuple: record.provider_code, capacity: 64),
            retryAfter: record.retry_after_ms > 0 ? .milliseconds(Int64(record.retry_after_ms)) : nil)
    }

    func poolError(_ failure: BlockingPool.Failure, operation: String) -> DriverError {
        switch failure {
        case .timedOut:
            logger.warning(
                "driver call timed out",
                metadata: ["driver": "\(plugin)", "operation": "\(operation)", "timeout": "\(timeout)", "pool_busy": "\(pool.busy)"])
            return DriverError(.internal, "no reply within \(timeout)", driver: plugin, operation: operation)
        case .cancelled:
            return DriverError(.transient, "call cancelled before it started", driver: plugin, operation: operation)
        }
    }
}
