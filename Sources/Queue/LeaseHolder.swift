import Foundation

/// Who holds a lease, for the refusal a second daemon prints.
public struct LeaseHolder: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var pid: Int
    public var since: Date?

    public init(host: String, pid: Int, since: Date? = nil) {
        self.host = host
        self.pid = pid
        self.since = since
    }

    public static var thisProcess: LeaseHolder {
        LeaseHolder(host: ProcessInfo.processInfo.hostName, pid: Int(getpid()))
    }

    public var description: String {
        "cloud-dispatch pid \(pid) on \(host)" + (since.map { " since \(Timestamp.format($0))" } ?? "")
    }
}
