import Foundation
import JSON
import Synchronization

/// Optional record of every driver and executor-backend call, one JSON object per line, for checking payloads
/// against the schema with an independent validator (`make test` does) and for debugging a
/// driver. Enabled by `CLOUD_DISPATCH_DRIVER_TRACE=<file>` (mode 0600). Init scripts are
/// replaced by their length and tags named `…secret` by "(redacted)", in requests and replies,
/// as they carry instance secrets; instance-set configs (credentials) are never traced.
public final class DriverTrace: Sendable {
    public static let environmentVariable = "CLOUD_DISPATCH_DRIVER_TRACE"
    public static let shared: DriverTrace? = ProcessInfo.processInfo.environment[environmentVariable].flatMap(DriverTrace.init(path:))

    private let handle: Mutex<FileHandle>

    init?(path: String) {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path)
        else { return nil }
        self.handle = Mutex(handle)
    }

    func record<Operation: PluginOperation>(driver: String, operation: Operation, request: String?, status: ErrorClass?, reply: String?) {
        var entry: [String: Any] = ["driver": driver, "operation": operation.rawValue, "status": status?.name ?? "ok"]
        // Driver entries stay as they were; an executor's says so (validate_trace.py picks by kind).
        if Operation.kind != .driver { entry["kind"] = Operation.kind.rawValue }
        if let request { entry["request"] = Self.redacted(request) }
        if let reply { entry["reply"] = Self.redacted(reply) }
        guard let data = try? JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]) else { return }
        handle.withLock { $0.write(data + Data("\n".utf8)) }
    }

    static func redacted(_ payload: String) -> String {
        guard let value = try? JSONValue(parsing: Data(payload.utf8)) else { return payload }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(scrub(value, in: nil)) else { return payload }
        return String(decoding: data, as: UTF8.self)
    }

    private static func scrub(_ value: JSONValue, in parent: String?) -> JSONValue {
        switch value {
        case .object(let members):
            var out: [String: JSONValue] = [:]
            for (key, member) in members {
                if key == "init_script", case .string(let script) = member {
                    out[key] = .string("(\(script.utf8.count) bytes)")
                } else if parent == "tags", key.hasSuffix("secret"), case .string = member {
                    out[key] = .string("(redacted)")
                } else {
                    out[key] = scrub(member, in: key)
                }
            }
            return .object(out)
        case .array(let items): return .array(items.map { scrub($0, in: parent) })
        default: return value
        }
    }
}
