import Foundation
import Logging

/// The state folder (`state_dir`) holds secrets: the SQLite queue (every container's
/// environment), the local admin token, the workers' SSH key, the loopback instances. `check`
/// says what `prepare` would fail on, without making anything, so `check-config` and `serve`
/// report the same problems in the same words; `prepare` makes it 0700, or tightens an existing
/// one to 0700. One another user owns is refused: that user could read or replace all of it.
///
///     if let problem = StateFolder.check(config.stateDir) { ... }
///     try StateFolder.prepare(config.stateDir, logger: logger)    // serve
enum StateFolder {
    /// Kernel file systems: writes there change the kernel's settings, not files.
    static let refusedRoots = ["/proc", "/sys"]

    /// Why `path` cannot be the state folder, or nil: it must be a folder this user owns (or be
    /// makeable, its nearest existing parent being a writable folder), writable, and not under
    /// /proc or /sys.
    static func check(_ path: String) -> String? {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        if let root = refusedRoots.first(where: { absolute == $0 || absolute.hasPrefix($0 + "/") }) {
            return "\(absolute) is under \(root), a kernel file system, not a place for files"
        }
        var current = absolute
        while true {
            var info = stat()
            if stat(current, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    return current == absolute
                        ? "\(absolute) is a file, not a folder"
                        : "\(absolute) cannot be made: \(current) is a file, not a folder"
                }
                if current == absolute && info.st_uid != geteuid() {
                    return "\(absolute) is owned by \(userName(info.st_uid)), not by \(userName(geteuid())) who runs cloud-dispatch; "
                        + "chown it to that user or choose another state_dir"
                }
                guard access(current, W_OK | X_OK) == 0 else {
                    return current == absolute
                        ? "\(absolute) is not writable by this user (uid \(geteuid()))"
                        : "\(absolute) cannot be made: \(current) is not writable by this user (uid \(geteuid()))"
                }
                return nil
            }
            guard errno == ENOENT || errno == ENOTDIR else { return "\(current): \(String(cString: strerror(errno)).lowercased())" }
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { return "\(absolute) cannot be made" }
            current = parent
        }
    }

    /// Checks `path`, makes it when missing (parents as any folder; only the state folder
    /// itself is private), and makes it 0700.
    static func prepare(_ path: String, logger: Logger) throws(SettingProblem) {
        if let problem = check(path) { throw SettingProblem("state_dir", problem) }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty { try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            // Raced by another process: say what is wrong now, in the same words as check.
            throw SettingProblem("state_dir", check(path) ?? "cannot make \(path): \(String(cString: strerror(errno)).lowercased())")
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw SettingProblem("state_dir", check(path) ?? "cannot use \(path)") }
        let mode = info.st_mode & 0o7777
        guard mode != 0o700 else { return }
        guard chmod(path, 0o700) == 0 else {
            throw SettingProblem("state_dir", "cannot make \(path) private (chmod 700): \(String(cString: strerror(errno)).lowercased())")
        }
        logger.notice("state folder made private", metadata: ["folder": "\(path)", "mode": "\(String(mode, radix: 8)) -> 700"])
    }

    /// "alice (uid 1000)", or "uid 1000" for a uid without a name.
    static func userName(_ uid: uid_t) -> String {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &found) == 0, found != nil, let name = entry.pw_name else {
            return "uid \(uid)"
        }
        return "\(String(cString: name)) (uid \(uid))"
    }
}
