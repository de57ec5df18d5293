import Foundation

/// The environment of every program the daemon starts (today: ssh-keygen for the workers'
/// key). The daemon's own may hold secrets — an API token given through a variable, a cloud's
/// credentials — so a child gets an allow-list, not a copy. The loopback driver keeps the
/// same list for its children (Plugins/Loopback/util.c, lb_child_environment).
///
///     process.environment = ChildEnvironment.scrubbed()
enum ChildEnvironment {
    static let inherited = ["PATH", "HOME", "LANG", "LC_ALL", "TZ"]
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    static func scrubbed(from environment: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var kept = environment.filter { inherited.contains($0.key) }
        if kept["PATH"] == nil { kept["PATH"] = defaultPath }
        return kept
    }
}
