import Foundation
import Logging

/// The daemon's state folder holds secrets: the queue (every container's environment), the
/// local admin token, the workers' SSH key, the loopback instances. `serve` makes it 0700, or
/// tightens an existing one to 0700, and refuses one another user owns (that user could read
/// or replace all of it).
///
///     try StateFolder.prepare(settings.stateDir, logger: logger)
enum StateFolder {
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    static func prepare(_ path: String, logger: Logger) throws(Refusal) {
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty {  // parents as any folder; only the state folder itself is private
            try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw Refusal(description: "cannot create the state folder \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Refusal(description: "cannot use the state folder \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw Refusal(description: "the state folder \(path) is not a folder") }
        guard info.st_uid == geteuid() else {
            throw Refusal(description: "the state folder \(path) is owned by \(userName(info.st_uid)), not by \(userName(geteuid())) "
                + "who runs cloud-dispatch; chown it to that user or choose another state_dir")
        }
        let mode = info.st_mode & 0o7777
        guard mode != 0o700 else { return }
        guard chmod(path, 0o700) == 0 else {
            throw Refusal(description: "cannot make the state folder \(path) private (chmod 700): \(String(cString: strerror(errno)))")
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
