import Foundation

/// This process's resident set, from /proc/self/status.
public struct ResidentMemory: Sendable {
    public var kib = 0
    public var peakKiB = 0

    public var mib: Int { kib / 1024 }
    public var peakMiB: Int { peakKiB / 1024 }

    public static func now() -> ResidentMemory {
        var m = ResidentMemory()
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let value = Int(fields[1]) else { continue }
            if fields[0] == "VmRSS:" { m.kib = value }
            if fields[0] == "VmHWM:" { m.peakKiB = value }
        }
        return m
    }
}
