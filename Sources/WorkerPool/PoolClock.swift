import Foundation

/// The time cloud calls are paced on. Production waits on the wall clock; the simulator
/// passes a virtual clock whose `sleep` moves virtual time instead of waiting.
public protocol PoolClock: Sendable {
    /// Seconds (since 1970 on the wall clock; any origin on a virtual one).
    var now: Double { get }
    /// Returns at `until` or later.
    func sleep(until: Double) async
}

public struct WallClock: PoolClock {
    public init() {}
    public var now: Double { Date().timeIntervalSince1970 }
    public func sleep(until: Double) async {
        let seconds = until - now
        if seconds > 0 { try? await Task.sleep(for: .milliseconds(Int64((seconds * 1000).rounded(.up)))) }
    }
}
