import Foundation

/// The state folder (`state_dir`): the SQLite queue, the admin token, the worker key and the
/// loopback driver's state live there. `check` says what `prepare` would fail on, without making
/// anything, so `check-config` and `serve` report the same problems in the same words.
///
///     if let problem = StateFolder.check(config.stateDir) { ... }
///     try StateFolder.prepare(config.stateDir)    // serve: made with mode 0700 when missing
enum StateFolder {
    /// Kernel file systems: writes there change the kernel's settings, not files.
    static let refusedRoots = ["/proc", "/sys"]

    /// Why `path` cannot be the state folder, or nil: it must be a folder (or be makeable,
    /// its nearest existing parent being a writable folder), writable, and not under /proc or /sys.
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
                    return current == absolute ? "\(absolute) is a file, not a folder"
                        : "\(absolute) cannot be made: \(current) is a file, not a folder"
                }
                guard access(current, W_OK | X_OK) == 0 else {
                    return current == absolute ? "\(absolute) is not writable by this user (uid \(geteuid()))"
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

    /// Checks `path` and makes it (mode 0700) when missing.
    static func prepare(_ path: String) throws(SettingProblem) {
        if let problem = check(path) { throw SettingProblem("state_dir", problem) }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            // Raced by another process: say what is wrong now, in the same words as check.
            throw SettingProblem("state_dir", check(path) ?? "cannot make \(path): the file system refused")
        }
    }
}
