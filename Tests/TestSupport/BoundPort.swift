import Foundation

/// A TCP socket on 127.0.0.1 bound to a port the kernel picked, held for as long as this object
/// lives: the port is bound before a test is told its number, so no other process can take it
/// in between (the race of "pick a free port, close it, hope").
///
///     let refused = try BoundPort(listening: false)   // connecting is refused while it lives
///     connect(to: refused.port)
///     withExtendedLifetime(refused) {}
///
/// Not listening, the port refuses connections (ECONNREFUSED) and cannot be bound by anyone
/// else; listening, connections queue on `fd` for the owner to accept.
public final class BoundPort: @unchecked Sendable {
    // @unchecked: immutable after init; the descriptor is closed once, in deinit.
    public let fd: Int32
    public let port: Int

    public init(listening: Bool) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, !listening || listen(fd, 128) == 0 else {
            let problem = String(cString: strerror(errno))
            close(fd)
            throw HarnessError("cannot bind a port on 127.0.0.1: \(problem)")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
