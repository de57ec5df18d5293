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
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return .failure(Problems(file: path, items: ["cannot read the file"]))
        }
        let folder = (URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path)
        return parse(text, file: path, folder: folder, environment: environment)
    }

    public static func parse(_ text: String, file: String, folder: String, environment: [String: String]) -> Result<Configuration, Problems> {
        func fail(_ items: [String]) -> Result<Configuration, Problems> { .failure(Problems(file: file, items: items)) }
        let value: JSONValue
        do {
            let yaml = try Yams.load(yaml: text)
            value = try yaml.map(jsonValue) ?? .object([:])
        } catch let error as YamlError {
            return fail(["not valid YAML: \(error)"])
        } catch {
            return fail(["\(error)"])
        }
        let schemaProblems = schema.validate(value, against: "configuration")
        if !schemaProblems.isEmpty { return fail(schemaProblems) }

        var problems: [String] = []
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : folder + "/" + p }
        func string(_ v: JSONValue?) -> String? { if case .string(let s)? = v { s } else { nil } }
        func int(_ v: JSONValue?) -> Int? { if case .integer(let i)? = v { Int(i) } else { nil } }

        var config = Configuration(stateDir: resolve(string(value["state_dir"]) ?? "state"))
        if let id = string(value["dispatcher_id"]) { config.dispatcherID = id }
        if let listen = string(value["listen"]) {
            if let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port),
               colon != listen.startIndex {
                config.listenHost = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                config.listenPort = port
            } else {
                problems.append("listen: must be HOST:PORT, e.g. 127.0.0.1:8723")
            }
        }
        if let store = string(value["queue"]?["store"]) {
            if store == "sqlite" || store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") {
                config.queue.store = store
            } else {
                problems.append("queue.store: must be sqlite or a postgres:// URL")
            }
        }
        if let n = int(value["queue"]?["max_dispatch_attempts"]) { config.queue.maxDispatchAttempts = n }
        if let n = int(value["api"]?["max_body_bytes"]) { config.api.maxBodyBytes = n }
        if case .array(let tokens)? = value["api"]?["tokens"] {
            var names = Set<String>()
            for (i, token) in tokens.enumerated() {
                let name = string(token["name"]) ?? ""
                let role = string(token["role"]) ?? ""
                let at = "api.tokens[\(i)]"
                if !names.insert(name).inserted { problems.append("\(at).name: \(name) is used twice") }
                let secret: String?
                switch (string(token["file"]), string(token["env"])) {
                case (let file?, nil):
                    secret = readSecret(resolve(file), at: at, problems: &problems)
                case (nil, let env?):
                    secret = environment[env]
                    if secret == nil { problems.append("\(at).env: environment variable \(env) is not set") }
                default:
                    problems.append("\(at): give exactly one of file or env")
                    secret = nil
                }
                if let secret {
                    if secret.utf8.count < 16 {
                        problems.append("\(at): the token of \(name) is shorter than 16 characters")
                    } else {
                        config.api.tokens.append(Configuration.Token(name: name, role: role, secret: secret))
                    }
                }
            }
        }
        return problems.isEmpty ? .success(config) : fail(problems)
    }

    /// A token file: must exist and be private to its owner; surrounding white space is dropped.
    static func readSecret(_ path: String, at: String, problems: inout [String]) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            problems.append("\(at).file: cannot read \(path)")
            return nil
        }
        if info.st_mode & 0o077 != 0 {
            problems.append("\(at).file: \(path) is readable or writable by group or others; run chmod 600")
            return nil
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
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
