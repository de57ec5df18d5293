import Foundation
import Units

/// What the daemon and a driver process (`ProcessDriver`, `DriverProcessServer`) say to each
/// other, one `Frames` frame each. Bodies are the ABI's own JSON payloads, as text.
enum DriverProcessWire {
    /// The driver process's first frame: the driver it loaded, or why it could not.
    struct Hello: Codable {
        var ready: DriverInfo?
        var refused: String?
    }

    /// Daemon → driver process. `op`: a `DriverOperation` raw value, or "close_set".
    struct Request: Codable {
        var id: UInt64
        var op: String
        var set: String?
        var body: String?
    }

    /// Driver process → daemon: the reply payload, or the error the driver (or the host in
    /// the driver process) reported.
    struct Reply: Codable {
        var id: UInt64
        var reply: String?
        var error: WireError?
    }

    struct WireError: Codable {
        var errorClass: ErrorClass
        var message: String
        var httpStatus: Int
        var providerCode: String
        var retryAfterMs: Int64?

        enum CodingKeys: String, CodingKey {
            case errorClass = "class", message
            case httpStatus = "http_status", providerCode = "provider_code", retryAfterMs = "retry_after_ms"
        }

        init(_ e: DriverError) {
            errorClass = e.errorClass
            message = e.message
            httpStatus = e.httpStatus
            providerCode = e.providerCode
            retryAfterMs = e.retryAfter.map(\.inMilliseconds)
        }

        func driverError(driver: String, operation: String) -> DriverError {
            DriverError(
                errorClass, message, driver: driver, operation: operation, httpStatus: httpStatus, providerCode: providerCode,
                retryAfter: retryAfterMs.map { .milliseconds($0) })
        }
    }

    static let closeSet = "close_set"
}
