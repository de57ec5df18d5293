import Foundation
import Synchronization

/// Optional record of every driver call, one JSON object per line, for checking payloads
/// against the schema with an independent validator (`make test` does) and for debugging a
/// driver. Enabled by `CLOUD_DISPATCH_DRIVER_TRACE=<file>`. Init scripts are replaced by
/// their length, as they may carry instance secrets; instance-set configs (credentials) are
/// never traced.
public final class DriverTrace: Sendable {
    public static let environmentVariable = "CLOUD_DISPATCH_DRIVER_TRACE"
    public static let shared: DriverTrace? = ProcessInfo.processInfo.environment[environmentVariable].flatMap(DriverTrace.init(path:))

    private let handle: Mutex<FileHandle>

    init?(path: String) {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: path) else { return nil }
        self.handle = Mutex(handle)
    }

    func record(driver: String, operation: DriverOperation, request: String?, status: ErrorClass?, reply: String?) {
        var entry: [String: Any] = ["driver": driver, "operation": operation.rawValue, "status": status?.name ?? "ok"]
        if let request { entry["request"] = Self.redacted(request) }
        if let reply { entry["reply"] = reply }
        guard let data = try? JSONSerialization.data(withJSONObject: entry, options: [.sortedKeys]) else { return }
        handle.withLock { $0.write(data + Data("\n".utf8)) }
    }

    static func redacted(_ request: String) -> String {
        guard var object = try? JSONSerialization.jsonObject(with: Data(request.utf8)) as? [String: Any],
              let script = object["init_script"] as? String else { return request }
        object["init_script"] = "(\(script.utf8.count) bytes)"
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return request }
        return String(decoding: data, as: UTF8.self)
    }
}
