import Foundation
import JSON
import Yams

/// Reads a YAML configuration, reporting every problem with its path at once.
///
///     switch ConfigLoader.load(path: "/etc/cloud-dispatch/config.yml") {
///     case .success(let config): ...
///     case .failure(let problems): problems.lines.forEach { print($0) }
///     }
public enum ConfigLoader {
    /// Every problem found, as "FILE: path: problem" lines.
    public struct Problems: Error, CustomStringConvertible {
        public var file: String
        public var items: [String]
        public var lines: [String] { items.map { "\(file): \($0)" } }
        public var description: String { lines.joined(separator: "\n") }
    }

    static let schema: JSONSchema = {
        do { return try JSONSchema(document: JSONValue(parsing: Data(PackageResources.config_schema_json))) } catch {
            fatalError("embedded config schema is broken: \(error)")
        }
    }()

    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Result<Configuration, Problems> {
        let text: String
        switch readText(path) {
        case .success(let read): text = read
        case .failure(let problems): return .failure(problems)
        }
        let folder = (URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path)
        return parse(text, file: path, folder: folder, environment: environment)
    }

    public static func parse(_ text: String, file: String, folder: String, environment: [String: String]) -> Result<Configuration, Problems> {
        let (config, problems) = read(text, folder: folder, environment: environment)
        guard let config, problems.isEmpty else { return .failure(Problems(file: file, items: problems)) }
        return .success(config)
    }

    /// Like `load`, but also returns the configuration read despite the problems (nil when the
    /// file is not readable YAML), so `check-config` can look further: which driver, which files.
    public static func check(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    )
        -> (config: Configuration?, problems: Problems)
    {
        let text: String
        switch readText(path) {
        case .success(let read): text = read
        case .failure(let problems): return (nil, problems)
        }
        let folder = (URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path)
        let (config, items) = read(text, folder: folder, environment: environment)
        return (config, Problems(file: path, items: items))
    }

    /// The file's text; one larger than a configuration can be is not read at all.
    static func readText(_ path: String) -> Result<String, Problems> {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return .failure(Problems(file: path, items: ["cannot read the file: \(String(cString: strerror(errno)))"]))
        }
        if info.st_mode & S_IFMT == S_IFDIR { return .failure(Problems(file: path, items: ["is a folder, not a file"])) }
        if Int(info.st_size) > YAMLBudget.maxBytes {
            return .failure(Problems(file: path, items: ["the file has \(info.st_size) bytes; a configuration has at most \(YAMLBudget.maxBytes)"]))
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return .failure(Problems(file: path, items: ["cannot read the file as UTF-8 text"]))
        }
        return .success(text)
    }

    static func read(_ text: String, folder: String, environment: [String: String]) -> (Configuration?, [String]) {
        if let problem = YAMLBudget.problem(in: text) { return (nil, ["not accepted as YAML: \(problem)"]) }
        let value: JSONValue
        do {
            let yaml = try Yams.load(yaml: text)
            value = try yaml.map(jsonValue) ?? .object([:])
        } catch let error as YamlError {
            return (nil, ["not valid YAML: \(error)"])
        } catch {
            return (nil, ["\(error)"])
        }
        // Both passes always run, so one reading reports every problem: the schema checks shapes,
        // types and ranges; the reader checks what a schema cannot say (sizes, durations, files,
        // duplicates) and reads only values of the right type, so nothing is reported twice.
        var reader = ConfigReader(folder: folder, environment: environment)
        let config = reader.read(value)
        return (config, schema.validate(value, against: "configuration") + reader.problems)
    }

    /// YAML as parsed by Yams, as a JSON value (so the schema can check it).
    static func jsonValue(_ any: Any) throws -> JSONValue {
        switch any {
        case is NSNull: return .null
        case let b as Bool: return .bool(b)
        case let i as Int: return .integer(Int64(i))
        case let d as Double: return .number(d)
        case let s as String: return .string(s)
        case let a as [Any]: return .array(try a.map(jsonValue))
        case let o as [String: Any]: return .object(try o.mapValues(jsonValue))
        case let o as [AnyHashable: Any]:
            throw ConfigShapeError(description: "mapping keys must be strings (found \(o.keys.map { "\($0)" }.sorted().joined(separator: ", ")))")
        default: return .string("\(any)")
        }
    }

    struct ConfigShapeError: Error, CustomStringConvertible { let description: String }
}
