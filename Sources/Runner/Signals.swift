import Glibc

/// Signal names for `--kill`, and the self-pipe that turns signals into readable bytes, so the
/// supervisor's single `poll` loop sees child exits and TERM requests like any other input
/// (no threads, no async: the runner links static and stays simple).
enum Signals {
    static let names: [(String, Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("KILL", SIGKILL),
        ("USR1", SIGUSR1), ("USR2", SIGUSR2), ("TERM", SIGTERM),
    ]

    /// "15", "TERM", "SIGTERM", "term" → 15; nil when not a signal we send.
    static func parse(_ text: String) -> Int32? {
        if let n = Int32(text) { return (1...64).contains(n) ? n : nil }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        return names.first { $0.0 == name }?.1
    }

    static func name(_ signal: Int32) -> String {
        names.first { $0.1 == signal }.map { "SIG" + $0.0 } ?? "signal \(signal)"
    }

    /// Where the handler writes: one byte per signal, the signal number.
    nonisolated(unsafe) private static var pipeWrite: Int32 = -1

    /// Routes `signals` into a nonblocking pipe; returns its read end.
    static func routeToPipe(_ signals: [Int32]) -> Int32? {
        guard let (r, w) = System.pipe() else { return nil }
        System.setNonBlocking(r)
        System.setNonBlocking(w)
        pipeWrite = w
        for s in signals {
            signal(s) { number in
                let saved = errno
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(Signals.pipeWrite, &byte, 1)
                errno = saved
            }
        }
        return r
    }

    /// Signal numbers waiting in the pipe.
    static func drain(_ fd: Int32) -> [Int32] {
        var buffer = [UInt8](repeating: 0, count: 64)
        var found: [Int32] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, 64) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return found }
            found += buffer[0..<n].map { Int32($0) }
        }
    }

    /// A forked child starts with default dispositions and nothing blocked, as if fresh.
    static func resetForChild() {
        for s in Int32(1)..<Int32(32) where s != SIGKILL && s != SIGSTOP { signal(s, SIG_DFL) }
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
    }
}
