import Config
import Foundation
import Units

/// The admin token `serve` makes in the state folder when no token is configured, so a local
/// setup works out of the box. Made 0600 from the first byte; an existing one readable or
/// writable by group or others is refused like a configured token file (`PrivateFile`).
/// Its value is never logged.
///
///     let secret = try LocalToken.readOrCreate(stateDir + "/admin.token")
enum LocalToken {
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    static func readOrCreate(_ path: String) throws(Refusal) -> String {
        if FileManager.default.fileExists(atPath: path) {
            if let problem = PrivateFile.problem(path) { throw Refusal(description: problem) }
            guard let existing = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw Refusal(description: "cannot read \(path)")
            }
            return existing.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var bytes = [UInt8](repeating: 0, count: 24)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let secret = "cd_" + bytes.map { String($0, radix: 16).leftPadded(to: 2, with: "0") }.joined()
        // O_EXCL and the mode at creation: never a moment with wider permissions.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Refusal(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
        let line = Array((secret + "\n").utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == line.count, synced else {
            unlink(path)
            throw Refusal(description: "cannot write \(path)")
        }
        return secret
    }
}
