import Glibc

/// The liveness of a container is one `flock` on its lock file, held by the supervisor for its
/// whole life: the kernel drops it when the supervisor dies however it dies, so "no process
/// holds the lock" is exact, with no pid files to trust and no pid reuse to fear.
///
/// Probes take a *shared* lock, the supervisor and `--forget` an *exclusive* one: two probes at
/// once never disturb each other.
enum Lock {
    enum Creation {
        case created(fd: Int32)
        case exists
        case failed(String)
    }

    /// Creates `path` already locked and holding `content`, or reports that it exists.
    /// The file is prepared under `temporary` and hard-linked into place (atomic, fails when
    /// the name is taken), so nobody ever sees the new record unlocked.
    static func create(_ path: String, temporary: String, content: [UInt8]) -> Creation {
        unlink(temporary)
        let fd = open(temporary, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return .failed("cannot create \(temporary): \(System.errorText())") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0, System.writeAll(fd, content) else {
            let message = System.errorText()
            close(fd); unlink(temporary)
            return .failed("cannot lock \(temporary): \(message)")
        }
        let linked = link(temporary, path) == 0
        let linkError = errno
        unlink(temporary)
        if linked { return .created(fd: fd) }
        close(fd)
        return linkError == EEXIST ? .exists : .failed("cannot create \(path): \(System.errorText(linkError))")
    }

    /// Replaces the content of a lock file we hold (readers take it whole or retry).
    static func rewrite(_ fd: Int32, _ content: [UInt8]) {
        _ = ftruncate(fd, 0)
        _ = content.withUnsafeBytes { pwrite(fd, $0.baseAddress!, content.count, 0) }
    }

    enum Holder: Equatable { case missing, held, free }

    /// Whether a process holds the lock at `path`, without blocking.
    static func probe(_ path: String) -> Holder {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .missing }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 { return .free }
        return errno == EWOULDBLOCK ? .held : .free
    }

    /// Takes the lock exclusively, retrying for `patience` seconds so that a concurrent probe's
    /// brief shared lock is not mistaken for a live supervisor. Returns the fd, or nil when
    /// the file is missing (`missing` set) or someone holds it.
    static func takeExclusive(_ path: String, patience: Double, missing: inout Bool) -> Int32? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { missing = true; return nil }
        let deadline = System.monotonic() + patience
        while true {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return fd }
            if System.monotonic() >= deadline { close(fd); return nil }
            System.sleep(seconds: 0.01)
        }
    }
}
