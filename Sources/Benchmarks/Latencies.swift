import Foundation
import Queue

/// Latencies of one kind, in milliseconds, and their percentiles.
public struct Latencies: Sendable {
    /// Ascending.
    public let milliseconds: [Double]

    public init(_ milliseconds: [Double]) { self.milliseconds = milliseconds.sorted() }

    /// The value below which a share `p` (0...1) of them lie; 0 when there are none.
    public func percentile(_ p: Double) -> Double {
        guard !milliseconds.isEmpty else { return 0 }
        return milliseconds[min(milliseconds.count - 1, Int(Double(milliseconds.count) * p))]
    }

    /// "p50 1.2 ms, p90 …, p99 …, max …".
    public var summary: String {
        String(
            format: "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms", percentile(0.5), percentile(0.9), percentile(0.99),
            milliseconds.last ?? 0)
    }
}

/// Polls a store until a container reaches one of `states` (benchmarks only: it polls every 2 ms).
public enum ContainerWait {
    public struct TimedOut: Error, CustomStringConvertible {
        public var description: String
    }

    public static func until(
        _ states: Set<ContainerState>, _ uuid: String, in store: any ContainerStore, timeout: Double = 120
    ) async throws -> Container {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let c = try await store.get(uuid)
            if states.contains(c.state) { return c }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw TimedOut(description: "\(uuid) did not reach \(states.map(\.rawValue).sorted()) within \(Int(timeout)) s")
    }
}
