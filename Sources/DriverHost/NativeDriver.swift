import Foundation
import JSON
import Logging
import PluginABI

/// A driver loaded from a `.so`. Every call into it runs on the blocking pool, bounded by
/// the call timeout; every reply is parsed and checked against the schema before use, so a
/// misbehaving driver yields a `DriverError` of class `internal`, never a crash or a hang.
public final class NativeDriver: CloudDriver, @unchecked Sendable {
    // @unchecked: `table` is written once by cdd_open before this object exists and is only
    // read afterwards; the driver promises its members are thread-safe.
    public let info: DriverInfo
    public let agreed: ABIVersion
    let table: UnsafeMutablePointer<cdd_driver>
    let pool: BlockingPool
    let callTimeout: Duration
    let logger: Logger

    static var maxReplyBytes: Int { DriverReply.maxBytes }

    init(
        info: DriverInfo, agreed: ABIVersion, table: UnsafeMutablePointer<cdd_driver>, pool: BlockingPool,
        callTimeout: Duration, logger: Logger
    ) {
        self.info = info
        self.agreed = agreed
        self.table = table
        self.pool = pool
        self.callTimeout = callTimeout
        self.logger = logger
    }

    /// The raw reserved slot `index` of the table, for tests of version gating.
    public func reservedSlot(_ index: Int) -> UnsafeMutableRawPointer? {
        withUnsafeBytes(of: table.pointee.reserved) {
            $0.load(fromByteOffset: index * MemoryLayout<UnsafeMutableRawPointer?>.stride, as: UnsafeMutableRawPointer?.self)
        }
    }

    public func capabilities() async throws(DriverError) -> Capabilities {
        let reply = try await call(.capabilities, timeout: callTimeout) { driver, out, err in
            let d = driver.table.pointee
            return d.capabilities!(d.driver_ctx, out, err)
        }
        return try decodeReply(Capabilities.self, reply, operation: .capabilities)
    }

    public func openInstanceSet(id: String, config: String) async throws(DriverError) -> any InstanceSet {
        try await openNativeInstanceSet(id: id, config: config)
    }

    /// `openInstanceSet`, returning the concrete type (for raw calls in the conformance kit).
    public func openNativeInstanceSet(id: String, config: String) async throws(DriverError) -> NativeInstanceSet {
        guard RequestLimits.isValidSetID(id) else {
            throw DriverError(.invalid, "instance-set id \"\(id.prefix(80))\": \(RequestLimits.setIDRule)", driver: info.id, operation: "open_set")
        }
        let handle: SetHandle
        do {
            handle = try await pool.run(timeout: callTimeout) { [self] () -> Result<SetHandle, DriverError> in
                var error = Self.makeErrorRecord()
                var set: OpaquePointer?
                let d = table.pointee
                let status = d.open_set!(d.driver_ctx, id, config, &set, &error)
                if status != CDD_OK { return .failure(driverError(status, error, .openSet)) }
                guard let set else {
                    return .failure(DriverError(.internal, "open_set returned ok without a set", driver: info.id, operation: "open_set"))
                }
                return .success(SetHandle(raw: set))
            }.get()
        } catch let failure as BlockingPool.Failure {
            throw poolError(failure, .openSet)
        } catch let error as DriverError {
            throw error
        } catch {
            throw DriverError(.internal, "\(error)", driver: info.id, operation: "open_set")
        }
        return NativeInstanceSet(id: id, driver: self, handle: handle)
    }

    // MARK: - Calling into the driver

    typealias RawCall = @Sendable (NativeDriver, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, UnsafeMutablePointer<cdd_error>) -> Int32

    /// Runs one JSON-returning member on the pool and returns the reply, parsed and checked
    /// against the operation's reply schema.
    func call(
        _ operation: DriverOperation, request: String? = nil, timeout: Duration,
        _ body: @escaping RawCall
    ) async throws(DriverError) -> JSONValue {
        let caller = NativeCall(plugin: info.id, pool: pool, timeout: timeout, logger: logger)
        return try await caller.run(operation, request: request, free: { [self] in table.pointee.free_string!(table.pointee.driver_ctx, $0) }) {
            [self] out, err in body(self, out, err)
        }
    }

    func parseReply(_ text: String, operation: DriverOperation) throws(DriverError) -> JSONValue {
        try DriverReply.parse(text, driver: info.id, operation: operation)
    }

    func decodeReply<T: Decodable>(_ type: T.Type, _ value: JSONValue, operation: DriverOperation) throws(DriverError) -> T {
        try DriverReply.decode(type, value, driver: info.id, operation: operation)
    }

    static func makeErrorRecord() -> cdd_error { NativeCall.makeErrorRecord() }

    private var caller: NativeCall { NativeCall(plugin: info.id, pool: pool, timeout: callTimeout, logger: logger) }

    func driverError(_ status: Int32, _ record: cdd_error, _ operation: DriverOperation) -> DriverError {
        caller.error(status, record, operation: operation.rawValue)
    }

    func poolError(_ failure: BlockingPool.Failure, _ operation: DriverOperation) -> DriverError {
        caller.poolError(failure, operation: operation.rawValue)
    }
}

/// An open instance set's driver-side handle.
struct SetHandle: @unchecked Sendable {
    // @unchecked: an opaque pointer the driver declares thread-safe to use from any thread.
    let raw: OpaquePointer
}

/// The driver members the host calls, by their ABI names.
public enum DriverOperation: String, Sendable, CaseIterable {
    case capabilities
    case openSet = "open_set"
    case create, list, destroy
    case setTags = "set_tags"
    case instanceTypes = "instance_types"
    case quotaGroup = "quota_group"

    /// The table's member for an instance-set operation; nil for the others, and for a member
    /// the driver left NULL.
    func member(of table: cdd_driver) -> cdd_set_op_fn? {
        switch self {
        case .create: table.create
        case .list: table.list
        case .destroy: table.destroy
        case .setTags: table.set_tags
        case .instanceTypes: table.instance_types
        case .quotaGroup: table.quota_group
        case .capabilities, .openSet: nil
        }
    }
}
