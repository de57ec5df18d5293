/// The driver ABI's error classes (docs/driver-abi.md §4); raw values are the `CDD_E_*` codes.
public enum ErrorClass: Int32, Sendable, CaseIterable {
    case invalid = 1, auth, notFound, quota, capacityType, capacityFamily, capacityGlobal,
         rateLimit, transient, unsupported, `internal`

    /// As destroy replies spell it.
    public var name: String {
        switch self {
        case .invalid: "invalid"
        case .auth: "auth"
        case .notFound: "not_found"
        case .quota: "quota"
        case .capacityType: "capacity_type"
        case .capacityFamily: "capacity_family"
        case .capacityGlobal: "capacity_global"
        case .rateLimit: "rate_limit"
        case .transient: "transient"
        case .unsupported: "unsupported"
        case .internal: "internal"
        }
    }
}

/// A failed call, with what the cloud said kept for the host's error record (`cdd_error`).
public struct DriverError: Error, Sendable, Equatable, CustomStringConvertible {
    public var errorClass: ErrorClass
    public var httpStatus: Int
    /// The cloud's own error code (EC2's `<Code>`, Google's reason, ARM's `error.code`);
    /// empty for local failures.
    public var code: String
    public var message: String
    public var retryAfterMs: Int

    public init(_ errorClass: ErrorClass, _ message: String, code: String = "", httpStatus: Int = 0, retryAfterMs: Int = 0) {
        self.errorClass = errorClass
        self.message = message
        self.code = code
        self.httpStatus = httpStatus
        self.retryAfterMs = retryAfterMs
    }

    public var description: String {
        "\(errorClass.name): \(code.isEmpty ? "" : code + ": ")\(message)" + (httpStatus != 0 ? " (HTTP \(httpStatus))" : "")
    }

    public static func invalid(_ message: String) -> DriverError { DriverError(.invalid, message) }
}

/// Log levels, as the host's `CDD_LOG_*` numbers them.
public enum LogLevel: Int32, Sendable { case error = 0, warn, info, debug, trace }
public typealias Logger = @Sendable (LogLevel, String) -> Void
