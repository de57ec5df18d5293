import Foundation
import Units

/// Length-prefixed JSON over a pipe between the daemon and a `HelperProcess`: a 4-byte
/// big-endian length, then that many bytes of one JSON document.
///
///     try Frames.write(fd, VetReport.stage("cdd_open"))
///     switch Frames.read(fd, deadline: .now + .seconds(10)) { case .frame(let data): ... }
enum Frames {
    /// Largest frame accepted: a driver reply (`NativeDriver.maxReplyBytes`) plus its envelope.
    static let maxBytes = NativeDriver.maxReplyBytes + (1 << 20)

    enum ReadResult: Sendable {
        case frame(Data)
        /// The writer closed its end (or died) between frames.
        case end
        case timedOut
        case broken(String)
    }

    static func write<T: Encodable>(_ fd: Int32, _ message: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(message)
        var length = UInt32(body.count).bigEndian
        var bytes = Data(bytes: &length, count: 4)
        bytes.append(body)
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw HelperProcessError("write to driver pipe: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ data: Data) -> T? {
        try? JSONDecoder().decode(type, from: data)
    }

    /// Reads one frame; `deadline` nil waits as long as it takes.
    static func read(_ fd: Int32, deadline: ContinuousClock.Instant? = nil) -> ReadResult {
        var header = [UInt8](repeating: 0, count: 4)
        switch readExactly(fd, &header, count: 4, deadline: deadline) {
        case .ok: break
        case .end(let got): return got == 0 ? .end : .broken("pipe closed inside a frame header")
        case .timedOut: return .timedOut
        case .failed(let reason): return .broken(reason)
        }
        let length = Int(header.reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        guard length <= maxBytes else { return .broken("frame of \(length) bytes, above \(maxBytes)") }
        var body = [UInt8](repeating: 0, count: length)
        switch readExactly(fd, &body, count: length, deadline: deadline) {
        case .ok: return .frame(Data(body))
        case .end: return .broken("pipe closed inside a frame")
        case .timedOut: return .timedOut
        case .failed(let reason): return .broken(reason)
        }
    }

    private enum Fill { case ok, end(Int), timedOut, failed(String) }

    private static func readExactly(_ fd: Int32, _ buffer: inout [UInt8], count: Int, deadline: ContinuousClock.Instant?) -> Fill {
        var got = 0
        while got < count {
            if let deadline {
                let left = ContinuousClock.now.duration(to: deadline)
                if left <= .zero { return .timedOut }
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ms = Int32(clamping: left.inMilliseconds + 1)
                let ready = poll(&poller, 1, ms)
                if ready < 0 && errno != EINTR { return .failed("poll: \(String(cString: strerror(errno)))") }
                if ready <= 0 { continue }
            }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, count - got) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failed("read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return .end(got) }
            got += n
        }
        return .ok
    }
}
