import Foundation

/// A lease that cannot be lost: the store itself already admits one process (SQLite's file lock).
public struct ExclusiveStoreLease: DispatcherLease {
    public init() {}
    public var problem: String? { nil }
    public func takenOver() async -> String? {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        return nil
    }
    public func release() async {}
}
