import Glibc

/// Thin, total wrappers over the few libc calls the runner makes everywhere: files, time,
/// messages. They retry on EINTR and return nil/false instead of throwing, because every
/// caller has a simple fallback (a missing file is "no record", a failed write is a reason).
enum System {
    /// The text of an errno value, e.g. "No such file or directory".
    static func errorText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    /// A line for humans on standard error.
    static func complain(_ message: String) {
        let line = "cloud-dispatch-runner: \(message)\n"
        _ = writeAll(2, Array(line.utf8))
    }

    /// A line on standard output (the host reads these).
    static func say(_ line: String) {
        _ = writeAll(1, Array((line + "\n").utf8))
    }

    /// Writes every byte, retrying short writes and EINTR.
    @discardableResult
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            done += n
        }
        return true
    }

    /// Reads a file descriptor to its end, at most `limit` bytes (nil on a read error or when
    /// the data is longer than the limit).
    static func readAll(_ fd: Int32, limit: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, 65536) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { return out }
            out += chunk[0..<n]
            if out.count > limit { return nil }
        }
    }

    /// A whole small file, or nil when it is missing or unreadable.
    static func readFile(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return readAll(fd, limit: limit)
    }

    /// Replaces a file so that readers see the old or the new content, never a part:
    /// a temporary file in the same folder, fsync, rename, fsync of the folder.
    static func writeAtomically(_ path: String, _ bytes: [UInt8], temporary: String) -> Bool {
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        let ok = writeAll(fd, bytes) && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else { unlink(temporary); return false }
        let folder = open(Paths.folderOf(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 { fsync(folder); close(folder) }
        return true
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Creates a folder and its missing parents with `mode`; true when it exists afterwards.
    static func makeFolders(_ path: String, mode: mode_t) -> Bool {
        var st = stat()
        if stat(path, &st) == 0 { return (st.st_mode & S_IFMT) == S_IFDIR }
        let parent = Paths.folderOf(path)
        if parent != path, !parent.isEmpty, !makeFolders(parent, mode: mode) { return false }
        return mkdir(path, mode) == 0 || errno == EEXIST
    }

    /// Wall-clock time in epoch seconds (for records).
    static func now() -> Double { clock(CLOCK_REALTIME) }

    /// Monotonic seconds (for deadlines: immune to clock steps).
    static func monotonic() -> Double { clock(CLOCK_MONOTONIC) }

    private static func clock(_ id: clockid_t) -> Double {
        var ts = timespec()
        clock_gettime(id, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func sleep(seconds: Double) {
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// An executable file named `name` in a folder of $PATH, if any.
    static func findOnPath(_ name: String) -> String? {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = "\(folder)/\(name)"
            var st = stat()
            if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return candidate
            }
        }
        return nil
    }

    /// Closes every descriptor above 2 except `keep`: a detached process must not hold what its
    /// parent's parent handed down (an sshd channel, a test harness's exit-watch socket), or
    /// those wait for it.
    static func closeInheritedFiles(keeping keep: Set<Int32>) {
        var open: [Int32] = []
        if let dir = opendir("/proc/self/fd") {
            let own = dirfd(dir)
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if let fd = Int32(name), fd > 2, fd != own { open.append(fd) }
            }
            closedir(dir)
        } else {
            open = Array(3..<1024)
        }
        for fd in open where !keep.contains(fd) { close(fd) }
    }

    static func setNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// A pipe whose ends close on exec (children get only what they dup2). The runner is
    /// single-threaded, so no fork can come between pipe and fcntl.
    static func pipe() -> (read: Int32, write: Int32)? {
        var fds: [Int32] = [-1, -1]
        guard Glibc.pipe(&fds) == 0 else { return nil }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }
}
