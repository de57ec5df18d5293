import JSON

/// A plugin member the host calls with a JSON request and checks the JSON reply of: a
/// driver's (`DriverOperation`) or an executor backend's (`ExecutorOperation`). Its name is
/// the ABI's member name and names its schema definitions: `<name>_request`, `<name>_reply`.
public protocol PluginOperation: Sendable {
    var rawValue: String { get }
    /// The kind of plugin it belongs to.
    static var kind: PluginKind { get }
    /// The schema its payloads are defined in.
    static var schema: JSONSchema { get }
}

extension PluginOperation {
    var requestSchema: String { rawValue + "_request" }
    var replySchema: String { rawValue + "_reply" }
}

extension DriverOperation: PluginOperation {
    public static var kind: PluginKind { .driver }
    public static var schema: JSONSchema { DriverSchema.shared }
}
