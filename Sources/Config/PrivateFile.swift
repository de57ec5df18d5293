import Glibc

/// The one rule for files that hold secrets (token files, the workers' SSH key, the local
/// admin token): readable and writable by their owner only. Used by the configuration checks
/// and by `serve` for the files it makes itself.
///
///     if let problem = PrivateFile.problem(path) { fail(problem) }
public enum PrivateFile {
    /// True when group or others may read or write (or execute) a file of this mode.
    public static func isExposed(mode: mode_t) -> Bool { mode & 0o077 != 0 }

    /// What is wrong with the existing file at `path` (nil when it is private). A file that
    /// cannot be looked at is left to the caller's read to report.
    public static func problem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, isExposed(mode: info.st_mode) else { return nil }
        return exposedMessage(path)
    }

    /// The message, with its remedy.
    public static func exposedMessage(_ path: String) -> String {
        "\(path) is readable or writable by group or others; run chmod 600"
    }
}
