import Foundation
import NIOCore

/// Whether the API's address can be bound, tried before the daemon opens its store or creates
/// an instance, so a busy port is reported at once, with the address and where it was set.
///
///     if let problem = ListenCheck.problem(host: "127.0.0.1", port: 8723) { throw SettingProblem("listen", problem) }
enum ListenCheck {
    /// nil when HOST:PORT can be bound now (port 0, "any free port", always can).
    static func problem(host: String, port: Int) -> String? {
        guard port != 0 else { return nil }
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &found)
        guard resolved == 0, let first = found else {
            return "\(host):\(port): cannot resolve \(host) (\(String(cString: gai_strerror(resolved))))"
        }
        defer { freeaddrinfo(found) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { return "\(host):\(port): \(String(cString: strerror(errno)).lowercased())" }
        defer { close(fd) }
        // As the server sets it: a port in TIME_WAIT is free, one with a listener is not.
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            return "\(host):\(port): \(String(cString: strerror(errno)).lowercased())"
        }
        return nil
    }
}

extension ListenCheck {
    /// The server's own bind failure (the address taken between the check and the bind), in the
    /// same words as `problem`, without the socket call NIO names; any other error as it is.
    static func explain(_ error: any Error, host: String, port: Int) -> any Error {
        guard let io = error as? IOError else { return error }
        return SettingProblem("listen", "\(host):\(port): \(String(cString: strerror(io.errnoCode)).lowercased())")
    }
}
