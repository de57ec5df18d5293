import Foundation
import JSON
import PluginABI
import Synchronization

/// An instance set opened on a `NativeDriver`. Requests are checked against the schema
/// before they leave the host; replies are checked when they come back (`RawInstanceSet`).
public final class NativeInstanceSet: RawInstanceSet, @unchecked Sendable {
    // @unchecked: `handle` is an opaque pointer the driver declares safe for concurrent use;
    // all mutable state is inside `usage`.
    public let id: String
    public let driver: NativeDriver
    let handle: SetHandle

    private struct Usage {
        var inFlight = 0
        var closed = false
    }
    private let usage = Mutex(Usage())

    init(id: String, driver: NativeDriver, handle: SetHandle) {
        self.id = id
        self.driver = driver
        self.handle = handle
    }

    public var driverID: String { driver.info.id }

    /// Calls currently inside the driver (including ones their callers stopped waiting for).
    public var callsInFlight: Int { usage.withLock { $0.inFlight } }

    public func rawCall(_ operation: DriverOperation, _ requestJSON: String) async throws(DriverError) -> JSONValue {
        let set = handle
        return try await driver.call(operation, request: requestJSON, timeout: driver.callTimeout) { [self] driver, out, err in
            // Counted on the pool thread, around the driver call itself: a call abandoned
            // before it started never counts, one abandoned while running counts until the
            // driver returns, and none starts after close().
            guard enter() else {
                return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "instance set \(id) is closed")
            }
            defer { leave() }
            guard let member = operation.member(of: driver.table.pointee) else { return CDD_E_UNSUPPORTED }
            return member(set.raw, requestJSON, out, err)
        }
    }

    /// Waits (up to the call timeout) for calls in flight, then closes the driver's set. A
    /// set with a call still stuck in the driver is left open rather than closed under it.
    public func close() async {
        let alreadyClosed = usage.withLock { u in
            defer { u.closed = true }
            return u.closed
        }
        if alreadyClosed { return }
        let deadline = ContinuousClock.now + driver.callTimeout
        while usage.withLock({ $0.inFlight }) > 0 {
            if ContinuousClock.now >= deadline {
                driver.logger.warning(
                    "instance set left open: a driver call is still running",
                    metadata: ["driver": "\(driverID)", "instance_set": "\(id)"])
                return
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let set = handle
        let d = driver
        _ = try? await driver.pool.run(timeout: driver.callTimeout) { d.table.pointee.close_set!(set.raw) }
    }

    private func enter() -> Bool {
        usage.withLock { u in
            if u.closed { return false }
            u.inFlight += 1
            return true
        }
    }

    private func leave() {
        usage.withLock { $0.inFlight -= 1 }
    }
}
