import JSON
import PluginABI

/// The executor-backend members the host calls, by their ABI names (cloud_dispatch_executor.h).
public enum ExecutorOperation: String, Sendable, CaseIterable, PluginOperation {
    case capabilities
    case openBackend = "open_backend"
    case capacity, submit, list, cancel, release
    case logTail = "log_tail"

    public static var kind: PluginKind { .executor }
    public static var schema: JSONSchema { ExecutorSchema.shared }

    /// The table's member for a backend operation; nil for the executor-level ones.
    func member(of table: cdx_executor) -> cdx_backend_op_fn? {
        switch self {
        case .capacity: table.capacity
        case .submit: table.submit
        case .list: table.list
        case .cancel: table.cancel
        case .release: table.release
        case .logTail: table.log_tail
        case .capabilities, .openBackend: nil
        }
    }
}
