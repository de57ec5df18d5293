import Foundation
import JSON

// driver: which driver, where it is, and what it is given.
extension ConfigReader {
    mutating func readDriver(_ value: JSONValue?, into driver: inout Configuration.DriverSettings) {
        if let name = string(value?["name"]) { driver.name = name }
        if let plugins = path(value?["plugins"]) {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: plugins, isDirectory: &isFolder) && isFolder.boolValue {
                driver.plugins = plugins
            } else {
                problem("driver.plugins", "\(plugins) is not a folder")
            }
        }
        if let config = value?["config"], case .object = config {
            if finiteNumbers(config, at: "driver.config") { driver.config = resolvingLoopbackPaths(config, driver: driver.name) }
        }
        if let image = string(value?["image"]) { driver.image = image }
        switch value?["calls_per_second"] {
        case .integer(let n)?: driver.callsPerSecond = Double(n)
        case .number(let d)?: driver.callsPerSecond = d
        default: break
        }
        if case .integer(let n)? = value?["call_burst"] { driver.callBurst = Int(n) }
        if let isolation = string(value?["isolation"]).flatMap(Configuration.DriverIsolation.init(rawValue:)) { driver.isolation = isolation }
        if let t = duration(value?["load_timeout"], at: "driver.load_timeout") { driver.loadTimeout = t }
        if let t = duration(value?["call_timeout"], at: "driver.call_timeout") {
            if t >= 1 { driver.callTimeout = t } else { problem("driver.call_timeout", "must be at least 1s") }
        }
    }

    /// YAML has .inf and .nan; JSON, which the driver gets, does not.
    private mutating func finiteNumbers(_ value: JSONValue, at path: String) -> Bool {
        switch value {
        case .number(let d) where !d.isFinite:
            problem(path, "\(d) is not a number JSON can carry")
            return false
        case .array(let items):
            return items.enumerated().map { finiteNumbers($1, at: "\(path)[\($0)]") }.allSatisfy { $0 }
        case .object(let members):
            return members.sorted { $0.key < $1.key }.map { finiteNumbers($1, at: "\(path).\($0)") }.allSatisfy { $0 }
        default:
            return true
        }
    }
}
