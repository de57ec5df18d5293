import Foundation
import JSON
import PluginABI

/// What the host lets through to a driver or executor backend: a valid instance-set id, and requests that are
/// JSON and keep every limit of the ABI (the schema's lengths, counts and required members).
/// Anything else is refused here, with class `invalid`, and never reaches the driver.
enum RequestLimits {
    /// The instance-set id rule of the header (`cdd_valid_set_id`): 1-64 bytes, a letter or
    /// digit first, then letters, digits, `.`, `_`, `-`. Never `.`, `..`, hidden, or with `/`.
    static let setIDRule = "1-64 characters: a letter or digit, then letters, digits, '.', '_' or '-'"

    static func isValidSetID(_ id: String) -> Bool {
        !id.utf8.contains(0) && cdd_valid_set_id(id) == 1
    }

    /// Nil when `requestJSON` may go to the driver as `operation`'s request, else the error.
    static func refusal<Operation: PluginOperation>(of requestJSON: String, as operation: Operation, driver: String) -> DriverError? {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: Data(requestJSON.utf8))
        } catch {
            return DriverError(.invalid, "request is not JSON: \(error)", driver: driver, operation: operation.rawValue)
        }
        let problems = Operation.schema.validate(value, against: operation.requestSchema)
        guard problems.isEmpty else {
            return DriverError(
                .invalid, "request breaks the \(operation.requestSchema) schema: " + problems.prefix(5).joined(separator: "; "),
                driver: driver, operation: operation.rawValue)
        }
        return nil
    }
}
