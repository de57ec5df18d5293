import Foundation

/// An advisory lock held for the life of the process, so that two daemons never share one
/// SQLite queue. The lock file holds the owner's pid for the error message.
final class ExclusiveFileLock: Sendable {
    let path: String
    private let descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    /// Takes the lock, or says who holds it.
    static func acquire(_ path: String) -> Result<ExclusiveFileLock, LockFailure> {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return .failure(LockFailure(reason: "cannot open \(path): \(String(cString: strerror(errno)))")) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            let pid = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            return .failure(LockFailure(reason: "in use by another cloud-dispatch (pid \(pid), lock \(path)); stop it or use another state folder"))
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        return .success(ExclusiveFileLock(path: path, descriptor: fd))
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

struct LockFailure: Error {
    let reason: String
}
