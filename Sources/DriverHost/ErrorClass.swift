import PluginABI

/// The closed set of error classes a driver can report; the scheduler's policy keys off it.
/// Raw values are the ABI status codes; `name` is the spelling used in JSON and logs.
public enum ErrorClass: Int32, Sendable, CaseIterable, Codable {
    case invalid = 1, auth, notFound, quota, capacityType, capacityFamily, capacityGlobal
    case rateLimit, transient, unsupported, `internal`, abi

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
        case .abi: "abi"
        }
    }

    public init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let value = ErrorClass(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown error class \(name)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }
}

/// An error from a driver operation, or from the host's handling of one (a timeout, a reply
/// that breaks the contract). Carries what the driver put in its `cdd_error` record.
public struct DriverError: Error, Sendable, CustomStringConvertible {
    public var errorClass: ErrorClass
    public var message: String
    public var driver: String
    public var operation: String
    public var httpStatus: Int = 0
    public var providerCode: String = ""
    /// The provider's retry hint, if any.
    public var retryAfter: Duration?

    public init(
        _ errorClass: ErrorClass, _ message: String, driver: String, operation: String,
        httpStatus: Int = 0, providerCode: String = "", retryAfter: Duration? = nil
    ) {
        self.errorClass = errorClass
        self.message = message
        self.driver = driver
        self.operation = operation
        self.httpStatus = httpStatus
        self.providerCode = providerCode
        self.retryAfter = retryAfter
    }

    public var description: String {
        var s = "\(driver).\(operation): \(errorClass.name)"
        if !providerCode.isEmpty { s += " [\(providerCode)]" }
        if httpStatus != 0 { s += " (HTTP \(httpStatus))" }
        if let retryAfter { s += " retry after \(retryAfter)" }
        return s + ": " + message
    }
}
