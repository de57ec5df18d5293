import Foundation
import JSON
import PluginABI

/// An instance set opened on a `NativeDriver`. Requests are checked against the schema
/// before they leave the host; replies are checked when they come back (`RawInstanceSet`).
public final class NativeInstanceSet: RawInstanceSet, @unchecked Sendable {
    // @unchecked: `handle` is an opaque pointer the driver declares safe for concurrent use;
    // all mutable state is inside `gate`.
    public let id: String
    public let driver: NativeDriver
    let handle: SetHandle
    private let gate = CallGate()

    init(id: String, driver: NativeDriver, handle: SetHandle) {
        self.id = id
        self.driver = driver
        self.handle = handle
    }

    public var driverID: String { driver.info.id }

    /// Calls currently inside the driver (including ones their callers stopped waiting for).
    public var callsInFlight: Int { gate.inFlight }

    public func rawCall(_ operation: DriverOperation, _ requestJSON: String) async throws(DriverError) -> JSONValue {
        let set = handle
        return try await driver.call(operation, request: requestJSON, timeout: driver.callTimeout) { [self] driver, out, err in
            // Counted on the pool thread, around the driver call itself: a call abandoned
            // before it started never counts, one abandoned while running counts until the
            // driver returns, and none starts after close().
            guard gate.enter() else {
                return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "instance set \(id) is closed")
            }
            defer { gate.leave() }
            guard let member = operation.member(of: driver.table.pointee) else { return CDD_E_UNSUPPORTED }
            return member(set.raw, requestJSON, out, err)
        }
    }

    /// Waits (up to the call timeout) for calls in flight, then closes the driver's set. A
    /// set with a call still stuck in the driver is left open rather than closed under it.
    public func close() async {
        switch await gate.closeAndDrain(within: driver.callTimeout) {
        case nil: return
        case false?:
            driver.logger.warning(
                "instance set left open: a driver call is still running",
                metadata: ["driver": "\(driverID)", "instance_set": "\(id)"])
            return
        case true?: break
        }
        let set = handle
        let d = driver
        _ = try? await driver.pool.run(timeout: driver.callTimeout) { d.table.pointee.close_set!(set.raw) }
    }
}
