import Foundation
import JSON

// dispatcher_id, listen, queue and api.
extension ConfigReader {
    mutating func readCore(_ value: JSONValue, into config: inout Configuration) {
        if let id = string(value["dispatcher_id"]) { config.dispatcherID = id }
        if let format = string(value["log_format"]), ["logfmt", "json"].contains(format) { config.logFormat = format }
        if let listen = string(value["listen"]) {
            if let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port),
                colon != listen.startIndex
            {
                config.listenHost = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
                config.listenPort = port
            } else {
                problem("listen", "must be HOST:PORT, e.g. 127.0.0.1:8723")
            }
        }
        if let store = string(value["queue"]?["store"]) {
            if store == "sqlite" || store.hasPrefix("postgres://") || store.hasPrefix("postgresql://") {
                config.queue.store = store
            } else {
                problem("queue.store", "must be sqlite or a postgres:// URL")
            }
        }
        if let n = int(value["queue"]?["max_dispatch_attempts"]) { config.queue.maxDispatchAttempts = n }
        if let s = duration(value["queue"]?["takeover_after"], at: "queue.takeover_after") { config.queue.takeoverAfter = s }
        if let n = int(value["api"]?["max_body_bytes"]) { config.api.maxBodyBytes = n }
        if let s = duration(value["api"]?["read_timeout"], at: "api.read_timeout") { config.api.readTimeout = s }
        if let s = duration(value["api"]?["idle_timeout"], at: "api.idle_timeout") { config.api.idleTimeout = s }
        if let n = int(value["api"]?["max_connections"]) { config.api.maxConnections = n }
        if case .array(let tokens)? = value["api"]?["tokens"] {
            readTokens(tokens, into: &config.api.tokens)
        }
    }

    private mutating func readTokens(_ tokens: [JSONValue], into result: inout [Configuration.Token]) {
        var names = Set<String>()
        for (i, token) in tokens.enumerated() {
            guard case .object = token else { continue }
            let name = string(token["name"]) ?? ""
            let role = string(token["role"]) ?? ""
            let at = "api.tokens[\(i)]"
            if !name.isEmpty && !names.insert(name).inserted { problem("\(at).name", "\(name) is used twice") }
            let secret: String?
            switch (string(token["file"]), string(token["env"])) {
            case (let file?, nil):
                secret = readSecret(resolve(file), at: "\(at).file")
            case (nil, let env?):
                secret = environment[env]
                if secret == nil { problem("\(at).env", "environment variable \(env) is not set") }
            default:
                problem(at, "give exactly one of file or env")
                secret = nil
            }
            if let secret {
                if secret.utf8.count < 16 {
                    problem(at, "the token of \(name) is shorter than 16 characters")
                } else {
                    result.append(Configuration.Token(name: name, role: role, secret: secret))
                }
            }
        }
    }

    /// A token file: must exist and be private to its owner; surrounding white space is dropped.
    private mutating func readSecret(_ path: String, at: String) -> String? {
        guard existingFile(path, at: at, private: true) else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            problem(at, "\(path) is not UTF-8 text")
            return nil
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
