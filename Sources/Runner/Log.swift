import Glibc

/// A container's stdout+stderr on disk, never larger than `cap` bytes, however much it prints.
///
/// Until the output reaches the cap the file is the whole output. Past it, the file is the
/// first `headLimit` bytes, a marker line saying how many bytes were dropped, and the last
/// `tailLimit` bytes: the head shows how it started, the tail (what matters) how it ended.
/// The tail is kept in memory and rewritten in place at most every `flushInterval` seconds and
/// once at the end, so a chatty container costs little.
///
///     var log = BoundedLog(fd: fd)
///     log.append(bytes[...])
///     if log.wantsFlush(now: t) { log.flush(now: t) }
struct BoundedLog {
    static let cap = 1 << 20
    static let tailLimit = 256 << 10
    /// Room kept for the marker line.
    static let markerReserve = 128
    static let headLimit = cap - tailLimit - markerReserve
    static let flushInterval = 0.5

    let fd: Int32
    /// Bytes received so far.
    private(set) var total = 0
    /// The latest bytes; trimmed to `tailLimit` lazily (amortised O(1) per byte).
    private var recent: [UInt8] = []
    private var dirty = false
    private var lastFlush = 0.0

    init(fd: Int32) { self.fd = fd }

    var truncated: Bool { total > BoundedLog.cap }
    var dropped: Int { max(0, total - BoundedLog.headLimit - BoundedLog.tailLimit) }

    mutating func append(_ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        let before = total
        total += bytes.count
        recent += bytes
        if recent.count > 2 * BoundedLog.tailLimit { recent.removeFirst(recent.count - BoundedLog.tailLimit) }
        if total <= BoundedLog.cap {
            put(Array(bytes), at: before)
        } else {
            if before < BoundedLog.headLimit {
                // The head is completed from this chunk before the tail takes over.
                put(Array(bytes.prefix(BoundedLog.headLimit - before)), at: before)
            }
            dirty = true
        }
    }

    func wantsFlush(now: Double) -> Bool { dirty && now - lastFlush >= BoundedLog.flushInterval }

    /// When the next flush is due (nil when nothing waits).
    var flushDue: Double? { dirty ? lastFlush + BoundedLog.flushInterval : nil }

    /// Rewrites marker and tail after the head.
    mutating func flush(now: Double) {
        lastFlush = now
        guard dirty else { return }
        dirty = false
        var region = Array("\n[cloud-dispatch-runner: log over \(BoundedLog.cap) bytes, \(dropped) bytes dropped here]\n".utf8)
        region += recent.suffix(BoundedLog.tailLimit)
        put(region, at: BoundedLog.headLimit)
        _ = ftruncate(fd, off_t(BoundedLog.headLimit + region.count))
    }

    private func put(_ bytes: [UInt8], at offset: Int) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset + done)) }
            if n < 0 { if errno == EINTR { continue }; return }
            done += n
        }
    }

    /// The last ≤ `limit` bytes of a log file as text: cut at a character boundary at both
    /// ends (a partly written character is left out), anything else invalid replaced.
    static func tail(of path: String, limit: Int = 4096) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return "" }
        let size = Int(st.st_size)
        let count = min(size, limit)
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, count, off_t(size - count)) }
        bytes = Array(bytes.prefix(max(0, n)))
        return String(decoding: trimToCharacters(bytes[...]), as: UTF8.self)
    }

    /// Drops continuation bytes at the start and an incomplete sequence at the end.
    static func trimToCharacters(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        var skipped = 0
        while let first = slice.first, first & 0xC0 == 0x80, skipped < 3 { slice.removeFirst(); skipped += 1 }
        // Walk back over at most 3 continuation bytes to the last lead byte.
        var i = slice.endIndex
        var continuation = 0
        while i > slice.startIndex, continuation < 4 {
            i -= 1
            let b = slice[i]
            if b & 0xC0 == 0x80 { continuation += 1; continue }
            let needed = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0
            if needed > continuation { slice = slice[..<i] }
            break
        }
        return slice
    }
}
