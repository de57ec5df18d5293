import DriverHost
import Foundation
import Logging
import Synchronization

/// SIGHUP's look at the plugins folder: each driver file added, replaced or removed since the
/// last look is logged with what was done about it. New and replaced files are vetted (in a
/// child, as at start-up), so a file installed beside a running daemon is checked before
/// anything needs it; the driver of the instance set in use is never swapped under it.
final class DriverFolderWatch: Sendable {
    let folder: String
    /// The driver the daemon's instance set uses, and that set; nil when nothing is dispatched.
    let inUse: (driver: String, instanceSet: String)?
    let loader: DriverLoader
    let logger: Logger
    private let known: Mutex<[String: Fingerprint]>

    /// What tells a replaced file from the one seen before (install renames a new inode in).
    struct Fingerprint: Equatable {
        var device, inode: UInt64
        var size: Int64
        var modified: Int
    }

    init(folder: String, inUse: (driver: String, instanceSet: String)?, loader: DriverLoader, logger: Logger) {
        self.folder = folder
        self.inUse = inUse
        self.loader = loader
        self.logger = logger
        known = Mutex(Self.fingerprints(folder))
    }

    func rescanInBackground() {
        Task { _ = await rescan() }
    }

    /// One line per change, as logged.
    func rescan() async -> [String] {
        let now = Self.fingerprints(folder)
        let before = known.withLock { old in
            defer { old = now }
            return old
        }
        var lines: [String] = []
        for name in before.keys.sorted() where now[name] == nil {
            let line = "driver file removed: \(folder)/\(name); a driver already loaded stays until a restart"
            logger.notice("driver file removed", metadata: ["path": "\(folder)/\(name)"])
            lines.append(line)
        }
        for name in now.keys.sorted() where before[name] != now[name] {
            let change = before[name] == nil ? "added" : "replaced"
            let path = folder + "/" + name
            let loader = self.loader
            let checked =
                (try? await loader.pool.run { loader.check(path, folder: self.folder) })
                ?? .failure(Refusal(path: path, reason: "check cancelled"))
            switch checked {
            case .failure(let refusal):
                logger.error("driver file refused", metadata: ["path": "\(path)", "change": "\(change)", "reason": "\(refusal.reason)"])
                lines.append("driver file \(change) and refused: \(refusal)")
            case .success(let file):
                let id = file.vetted?.id ?? "?"
                let version = file.vetted?.version ?? "?"
                if let inUse, inUse.driver == id {
                    logger.warning(
                        "driver file \(change) for the driver in use; the running driver stays until a restart",
                        metadata: ["path": "\(path)", "driver": "\(id)", "version": "\(version)", "instance_set": "\(inUse.instanceSet)"])
                    lines.append(
                        "driver file \(change): \(path) (\(id) \(version)); in use by instance set \(inUse.instanceSet): "
                            + "the running driver stays until a restart"
                    )
                } else {
                    logger.notice(
                        "driver file vetted", metadata: ["path": "\(path)", "change": "\(change)", "driver": "\(id)", "version": "\(version)"])
                    lines.append("driver file \(change): \(path) (\(id) \(version)); vetted, not in use: it is loaded when an instance set needs it")
                }
            }
        }
        if lines.isEmpty { logger.info("driver files unchanged", metadata: ["folder": "\(folder)"]) }
        return lines
    }

    static func fingerprints(_ folder: String) -> [String: Fingerprint] {
        var found: [String: Fingerprint] = [:]
        for name in PluginsFolder.driverFiles(in: folder) {
            var info = stat()
            guard stat(folder + "/" + name, &info) == 0 else { continue }
            found[name] = Fingerprint(
                device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                modified: info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec)
        }
        return found
    }
}
