import Config
import Foundation

/// Parses YAML text as if it were `<folder>/test.yml`.
func parse(_ yaml: String, folder: String = "/etc/cd", environment: [String: String] = [:]) -> Result<Configuration, ConfigLoader.Problems> {
    ConfigLoader.parse(yaml, file: "test.yml", folder: folder, environment: environment)
}

/// The configuration, or nil (the problems are recorded by the caller's expectation).
func config(_ yaml: String, folder: String = "/etc/cd", environment: [String: String] = [:]) -> Configuration? {
    try? parse(yaml, folder: folder, environment: environment).get()
}

/// Every problem reported, without the file name; empty when the file is valid.
func problems(_ yaml: String, folder: String = "/etc/cd") -> [String] {
    switch parse(yaml, folder: folder) {
    case .success: []
    case .failure(let p): p.items
    }
}

/// A fresh folder, removed when the test ends.
final class TempFolder {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.path + "/config-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `name` with the given mode; its absolute path.
    @discardableResult
    func file(_ name: String, _ contents: String = "x\n", mode: Int = 0o600) -> String {
        let full = path + "/" + name
        _ = FileManager.default.createFile(atPath: full, contents: Data(contents.utf8), attributes: [.posixPermissions: mode])
        return full
    }

    @discardableResult
    func folder(_ name: String) -> String {
        let full = path + "/" + name
        try? FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        return full
    }
}

let GiB: Int64 = 1 << 30
