/// A problem found before the daemon runs, with the setting it comes from, so the message can
/// say where to fix it: `state_dir (/etc/x.yml): /tmp/f is a file, not a folder`.
///
///     throw SettingProblem("state_dir", "\(path) is a file, not a folder")
///     printError("cloud-dispatch: " + origins.describe(problem))   // serve
///     print("\(file): \(problem.key): \(problem.text)")           // check-config
struct SettingProblem: Error, CustomStringConvertible {
    /// The configuration path of the setting: `state_dir`, `driver.name`, `queue.store`.
    let key: String
    let text: String

    init(_ key: String, _ text: String) {
        self.key = key
        self.text = text
    }

    var description: String { "\(key): \(text)" }
}

/// Where each setting of a run came from: the file, a command-line flag, or the built-in defaults.
struct SettingOrigins: Sendable {
    /// The configuration file; nil when the built-in defaults apply.
    var file: String?
    /// Settings given on the command line, by key: `["state_dir": "--state-dir"]`.
    var flags: [String: String] = [:]

    /// "state_dir (--state-dir)", "driver.name in /etc/x.yml", "listen (built-in default)".
    func name(_ key: String) -> String {
        if let flag = flags[key] { return "\(key) (\(flag))" }
        return file.map { "\(key) in \($0)" } ?? "\(key) (built-in default)"
    }

    func describe(_ problem: SettingProblem) -> String {
        if let flag = flags[problem.key] { return "\(problem.key) (\(flag)): \(problem.text)" }
        return "\(problem.key) (\(file ?? "built-in default")): \(problem.text)"
    }
}
