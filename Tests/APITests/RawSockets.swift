import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Plain TCP connections to the server, for clients no HTTP library would be: ones that stall
/// half-way through a request. Blocking calls run on their own thread, never on the
/// cooperative pool (two threads on this machine).
struct RawSockets: Sendable {
    let port: Int

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// `count` connections, each having sent `prefix` and nothing more.
    func open(_ count: Int, sending prefix: String) async throws -> [Int32] {
        try await offThread {
            var fds: [Int32] = []
            for _ in 0..<count {
                let fd = try connectSocket()
                fds.append(fd)
                try sendAll(fd, prefix)
            }
            return fds
        }
    }

    /// `count` connections that each sent a whole `request` and read the head of its answer:
    /// open connections the server has certainly accepted and counted.
    func openAnswered(_ count: Int, sending request: String, bound: Duration) async throws -> [Int32] {
        try await offThread {
            var fds: [Int32] = []
            for _ in 0..<count {
                let fd = try connectSocket()
                fds.append(fd)
                try sendAll(fd, request)
                var head = [UInt8]()
                var byte: UInt8 = 0
                let deadline = ContinuousClock.now + bound
                while !head.suffix(4).elementsEqual("\r\n\r\n".utf8) {
                    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard ContinuousClock.now < deadline, poll(&p, 1, 1000) >= 0 else { throw Failure(description: "no answer within \(bound)") }
                    if p.revents != 0 {
                        guard recv(fd, &byte, 1, 0) == 1 else { throw Failure(description: "closed before answering: \(String(decoding: head, as: UTF8.self))") }
                        head.append(byte)
                    }
                }
            }
            return fds
        }
    }

    /// Sends `request`, then reads until the server closes the connection or `bound` passes:
    /// what was read, and whether the server closed it.
    func exchange(_ request: String, bound: Duration) async throws -> (text: String, closed: Bool) {
        try await offThread {
            let fd = try connectSocket()
            defer { close(fd) }
            try sendAll(fd, request)
            var data = [UInt8]()
            let closed = waitForClose([fd], bound: bound, collecting: &data) == 0
            return (String(decoding: data, as: UTF8.self), closed)
        }
    }

    /// Waits until the server has closed every one of `fds` (they read end-of-file or an error)
    /// or `bound` passes; returns how many are still open. Closes them all.
    func waitUntilClosed(_ fds: [Int32], bound: Duration) async throws -> Int {
        try await offThread {
            var ignored = [UInt8]()
            let open = waitForClose(fds, bound: bound, collecting: &ignored)
            for fd in fds { close(fd) }
            return open
        }
    }

    static func closeAll(_ fds: [Int32]) { for fd in fds { close(fd) } }

    /// `request` on a new connection, the answer read until the server closes it (at most 5 s);
    /// blocking, for polling conditions.
    static func answerSync(port: Int, _ request: String) throws -> String {
        let sockets = RawSockets(port: port)
        let fd = try sockets.connectSocket()
        defer { close(fd) }
        try sockets.sendAll(fd, request)
        var data = [UInt8]()
        _ = sockets.waitForClose([fd], bound: .seconds(5), collecting: &data)
        return String(decoding: data, as: UTF8.self)
    }

    /// Raises this process's soft open-file limit to its hard limit (client and server ends of
    /// every test connection live in this process).
    static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        return Int(limit.rlim_cur)
    }

    private func connectSocket() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw Failure(description: "connect: errno \(errno)")
        }
        return fd
    }

    private func sendAll(_ fd: Int32, _ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += n
        }
    }

    /// poll(2) on every fd still open, reading what arrives, until all read EOF or `bound` passes.
    private func waitForClose(_ fds: [Int32], bound: Duration, collecting data: inout [UInt8]) -> Int {
        let deadline = ContinuousClock.now + bound
        var open = Set(fds)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            var polls = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polls, nfds_t(polls.count), Int32(min(left.components.seconds * 1000 + 1, 1000)))
            guard ready > 0 else { continue }
            for p in polls where p.revents != 0 {
                let n = buffer.withUnsafeMutableBytes { recv(p.fd, $0.baseAddress, $0.count, 0) }
                if n > 0 { data.append(contentsOf: buffer[0..<n]) } else { open.remove(p.fd) }
            }
        }
        return open.count
    }
}

/// Runs blocking work on a thread of its own.
func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
