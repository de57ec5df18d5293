import Glibc
import Units

/// A TCP connection made with a deadline (a blackholed address must cost a bounded wait, never
/// the kernel's two minutes). The descriptor is non-blocking; libssh2 drives it.
struct TCPSocket: ~Copyable {
    let fd: Int32

    init(host: String, port: Int, deadline: Deadline) throws(SSHError) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw .connect("cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(
                info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                info.pointee.ai_protocol)
            guard fd >= 0 else { lastError = errnoText(); continue }
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 || errno == EINPROGRESS {
                if Self.waitConnected(fd, deadline: deadline, error: &lastError) {
                    var one: Int32 = 1
                    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    self.fd = fd
                    return
                }
            } else {
                lastError = errnoText()
            }
            close(fd)
        }
        throw .connect("\(host):\(port): \(lastError)")
    }

    private static func waitConnected(_ fd: Int32, deadline: Deadline, error: inout String) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        while true {
            let rc = poll(&pfd, 1, deadline.pollMilliseconds)
            if rc < 0 && errno == EINTR { continue }
            if rc == 0 {
                error = "no answer within the connect timeout"
                return false
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError != 0 {
                error = String(cString: strerror(soError))
                return false
            }
            return true
        }
    }

    /// Waits until the socket is readable and/or writable, as libssh2 asks, or the deadline.
    func wait(read: Bool, write: Bool, deadline: Deadline) -> Bool {
        var events: Int16 = 0
        if read { events |= Int16(POLLIN) }
        if write { events |= Int16(POLLOUT) }
        if events == 0 { events = Int16(POLLIN) }
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let rc = poll(&pfd, 1, deadline.pollMilliseconds)
            if rc < 0 && errno == EINTR { continue }
            // Acknowledge at once: sshd sends a command's last messages (exit status, EOF,
            // close) as small writes that Nagle holds until our ACK, which Linux would delay
            // by 40 ms. The flag lasts only until the next receive, so it is set every time.
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), Int32(TCP_QUICKACK), &one, socklen_t(MemoryLayout<Int32>.size))
            return rc > 0
        }
    }

    deinit { close(fd) }
}

/// A point in time on the monotonic clock, for the steps of one SSH operation.
struct Deadline: Sendable {
    let at: ContinuousClock.Instant

    init(after seconds: Double) { at = .now + .milliseconds(Int64(seconds * 1000)) }

    var expired: Bool { ContinuousClock.now >= at }

    /// Milliseconds left, for poll(2): at least 0, at most a minute at a time.
    var pollMilliseconds: Int32 {
        Int32(max(0, min(ContinuousClock.now.duration(to: at).inMilliseconds, 60_000)))
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }
