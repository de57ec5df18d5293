import Foundation
import JSON
import Units

/// Turns a parsed document into a `Configuration`, collecting "path: problem" lines for what the
/// schema cannot check. A value of the wrong type is skipped here: the schema reports it.
/// One file per section: ConfigReader+Core, +Driver, +Executor, +InstanceTypes, +Scheduling, +Workers.
struct ConfigReader {
    let folder: String
    let environment: [String: String]
    var problems: [String] = []

    init(folder: String, environment: [String: String]) {
        self.folder = folder
        self.environment = environment
    }

    mutating func read(_ value: JSONValue) -> Configuration {
        var config = Configuration(stateDir: path(value["state_dir"]) ?? resolve("state"))
        readCore(value, into: &config)
        readDriver(value["driver"], into: &config.driver)
        config.executor = readExecutor(value["executor"], driverGiven: value["driver"] != nil)
        readInstanceTypes(value["instance_types"], into: &config.instanceTypes)
        readScheduling(value["scheduling"], into: &config.scheduling)
        readWorkers(value["workers"], into: &config.workers)
        return config
    }

    mutating func problem(_ path: String, _ text: String) { problems.append("\(path): \(text)") }

    // MARK: Typed values (nil when absent or of another type)

    func string(_ v: JSONValue?) -> String? { if case .string(let s)? = v { s } else { nil } }
    func int(_ v: JSONValue?) -> Int? { if case .integer(let i)? = v { Int(i) } else { nil } }
    func bool(_ v: JSONValue?) -> Bool? { if case .bool(let b)? = v { b } else { nil } }
    func number(_ v: JSONValue?) -> Double? {
        switch v {
        case .integer(let i)?: Double(i)
        case .number(let d)?: d
        default: nil
        }
    }

    /// A path, absolute or relative to the configuration file's folder.
    func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : folder + "/" + p }
    func path(_ v: JSONValue?) -> String? { string(v).map(resolve) }

    /// Bytes, or a string such as "4GiB"; `positive`: 0 is refused too.
    mutating func size(_ v: JSONValue?, at path: String, positive: Bool = false) -> Int64? {
        let bytes: Int64
        switch v {
        case .integer(let i)?: bytes = i
        case .string(let s)?:
            do { bytes = try Units.bytes(s) } catch {
                problem(path, "\(error)")
                return nil
            }
        default: return nil
        }
        if bytes < 0 || (positive && bytes == 0) {
            problem(path, positive ? "must be more than 0 bytes" : "must not be negative")
            return nil
        }
        return bytes
    }

    /// At most a year: the host turns durations into timers.
    static let longestDuration = 366.0 * 86400

    /// Seconds, or a string such as "1h30m"; `positive`: 0 is refused too.
    mutating func duration(_ v: JSONValue?, at path: String, positive: Bool = true) -> Double? {
        let seconds: Double
        switch v {
        case .integer(let i)?: seconds = Double(i)
        case .number(let d)?: seconds = d
        case .string(let s)?:
            do { seconds = try Units.seconds(s) } catch {
                problem(path, "\(error)")
                return nil
            }
        default: return nil
        }
        if !(seconds >= 0) || (positive && seconds == 0) {
            problem(path, positive ? "must be more than 0 seconds" : "must not be negative")
            return nil
        }
        if seconds > Self.longestDuration {
            problem(path, "must be at most 366d")
            return nil
        }
        return seconds
    }

    /// A file that must exist and be readable; `private`: not readable or writable by group or others.
    mutating func existingFile(_ path: String, at: String, private: Bool) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, FileManager.default.isReadableFile(atPath: path) else {
            problem(at, "cannot read \(path)")
            return false
        }
        if `private` && PrivateFile.isExposed(mode: info.st_mode) {
            problem(at, PrivateFile.exposedMessage(path))
            return false
        }
        return true
    }

    func quoted(_ s: String) -> String { "\"\(s.count > 60 ? String(s.prefix(60)) + "…" : s)\"" }
}
