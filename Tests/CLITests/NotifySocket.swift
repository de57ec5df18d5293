import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fake systemd notify socket: a datagram socket the daemon sends READY=1 / STOPPING=1 to.
final class NotifySocket {
    let path: String
    private let fd: Int32
    private(set) var messages: [String] = []

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard fd >= 0, bound == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    /// Waits until a message containing `text` arrives (or `seconds` pass).
    func wait(for text: String, seconds: Double = 15) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 {
                messages.append(String(decoding: buffer[..<n], as: UTF8.self))
            } else {
                if messages.contains(where: { $0.contains(text) }) { return true }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        return messages.contains { $0.contains(text) }
    }

    deinit {
        close(fd)
        unlink(path)
    }
}
