import Foundation
import JSON

// executor: an executor backend as the daemon's pool, instead of a cloud driver.
extension ConfigReader {
    mutating func readExecutor(_ value: JSONValue?, driverGiven: Bool) -> Configuration.ExecutorSettings? {
        guard let value, case .object = value, let name = string(value["name"]) else { return nil }
        if driverGiven {
            problem("executor", "driver and executor are both set; a daemon's pool is either a cloud driver's VMs or an executor backend: keep one")
        }
        var e = Configuration.ExecutorSettings(name: name)
        if let plugins = path(value["plugins"]) {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: plugins, isDirectory: &isFolder) && isFolder.boolValue {
                e.plugins = plugins
            } else {
                problem("executor.plugins", "\(plugins) is not a folder")
            }
        }
        if let config = value["config"], case .object = config { e.config = config }
        if case .array(let items)? = value["partitions"] {
            e.partitions = items.compactMap(string)
            if Set(e.partitions).count != e.partitions.count { problem("executor.partitions", "a partition is listed twice") }
        }
        if let t = duration(value["cancel_grace"], at: "executor.cancel_grace", positive: false) { e.cancelGrace = t }
        if let t = duration(value["call_timeout"], at: "executor.call_timeout") {
            if t >= 1 { e.callTimeout = t } else { problem("executor.call_timeout", "must be at least 1s") }
        }
        if let t = duration(value["poll_interval"], at: "executor.poll_interval") { e.pollInterval = t }
        if let t = duration(value["load_timeout"], at: "executor.load_timeout") { e.loadTimeout = t }
        if let n = int(value["max_submits_per_round"]) { e.maxSubmitsPerRound = n }
        if let n = int(value["max_jobs"]) { e.maxJobs = n }
        return e
    }
}
