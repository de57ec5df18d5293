// The Azure driver's exported entry points: C in, AzureCore out. Everything here is a
// capture-free global function (a C function pointer cannot capture context); state travels
// through driver_ctx and the instance-set handle. Only cdd_negotiate and cdd_open are
// exported (support/cdd-driver.exports); every string from the host is read with a bound and checked for
// UTF-8 before anything else touches it.
import AzureCore
import Foundation
import PluginABI
import Synchronization

/// The first host table cdd_open was given (its address).
private let firstHost = Atomic<Int>(0)

@_cdecl("cdd_negotiate")
public func cdd_negotiate(_ hostVersion: UInt32, _ agreed: UnsafeMutablePointer<UInt32>?) -> cdd_status {
    guard let agreed, cdd_version_major(hostVersion) == UInt32(CDD_ABI_VERSION_MAJOR) else { return CDD_E_ABI }
    agreed.pointee = cdd_make_version(UInt32(CDD_ABI_VERSION_MAJOR), min(cdd_version_minor(hostVersion), UInt32(CDD_ABI_VERSION_MINOR)))
    return CDD_OK
}

@_cdecl("cdd_open")
public func cdd_open(_ agreed: UInt32, _ host: UnsafePointer<cdd_host>?, _ driver: UnsafeMutablePointer<cdd_driver>?,
                     _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    guard let driver, driver.pointee.struct_size >= cdd_driver_size_v1_0() else {
        return cdd_error_fill(err, CDD_E_ABI, 0, 0, "", "azure needs a 1.0-sized driver table")
    }
    var table = cdd_driver()
    table.abi_version = agreed
    // The host table lives as long as the process: keep only its pointer, the first one given,
    // so every cdd_open fills the same table (driver_ctx included), as the ABI asks.
    _ = firstHost.compareExchange(expected: 0, desired: Int(bitPattern: host), ordering: .acquiringAndReleasing)
    table.driver_ctx = UnsafeMutableRawPointer(bitPattern: firstHost.load(ordering: .acquiring))
    table.id = cString("azure")
    table.version = cString("1.0.0")
    table.description = cString("Microsoft Azure (Resource Manager REST, libcurl)")
    table.capabilities = { _, out, err in reply(AzureInstanceSet.capabilities(), out, err) }
    table.open_set = azureOpenSet
    table.close_set = { set in
        guard let set else { return }
        Unmanaged<SetHandle>.fromOpaque(UnsafeRawPointer(set)).takeUnretainedValue().close()
    }
    table.create = { set, request, out, err in call(set, request, out, err) { s, d throws(AzureError) in try s.create(d) } }
    table.list = { set, request, out, err in call(set, request, out, err) { s, d throws(AzureError) in try s.list(d) } }
    table.destroy = { set, request, out, err in call(set, request, out, err) { s, d throws(AzureError) in try s.destroy(d) } }
    table.set_tags = { set, request, out, err in call(set, request, out, err) { s, d throws(AzureError) in try s.setTags(d) } }
    table.instance_types = { set, request, out, err in call(set, request, out, err) { s, d throws(AzureError) in try s.instanceTypes(d) } }
    table.quota_group = { set, request, out, err in call(set, request, out, err) { s, d throws(AzureError) in try s.quotaGroup(d) } }
    table.get_extension = { _, id in
        guard let text = try? ABIText.read(id, limit: ABIText.extensionIDLimit, what: "extension id"),
              text == CDD_EXT_INTERRUPTIONS else { return nil }
        return UnsafeRawPointer(interruptionsTable)
    }
    table.free_string = { _, string in free(string) }
    // Write only what both sides know.
    let size = min(Int(driver.pointee.struct_size), MemoryLayout<cdd_driver>.size)
    table.struct_size = UInt32(size)
    withUnsafeBytes(of: &table) { UnsafeMutableRawPointer(driver).copyMemory(from: $0.baseAddress!, byteCount: size) }
    return CDD_OK
}

/// `cdd.interruptions/1`, allocated once and kept for the life of the process (the ABI's rule
/// for extension tables); Swift globals are initialised once, thread-safely.
nonisolated(unsafe) private let interruptionsTable: UnsafeMutablePointer<cdd_ext_interruptions> = {
    let table = UnsafeMutablePointer<cdd_ext_interruptions>.allocate(capacity: 1)
    var t = cdd_ext_interruptions()
    t.struct_size = UInt32(MemoryLayout<cdd_ext_interruptions>.size)
    t.poll = { set, request, out, err in call(set, request, out, err) { s, d throws(AzureError) in try s.interruptions(d) } }
    table.initialize(to: t)
    return table
}()

/// A C string for the life of the process.
private func cString(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// The host's log callback, usable from any thread (the host promises it is thread-safe).
private struct HostLog: @unchecked Sendable {
    let host: UnsafePointer<cdd_host>?

    func callAsFunction(_ level: LogLevel, _ message: String) {
        guard let host, let log = host.pointee.log else { return }
        log(host.pointee.host_ctx, level.rawValue, message)
    }
}

private func azureOpenSet(_ ctx: UnsafeMutableRawPointer?, _ setID: UnsafePointer<CChar>?, _ config: UnsafePointer<CChar>?,
                          _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    guard let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "no handle pointer") }
    out.pointee = nil
    let log = HostLog(host: ctx.map { UnsafePointer($0.assumingMemoryBound(to: cdd_host.self)) })
    do throws(AzureError) {
        let id = try ABIText.setID(setID)
        let text = try ABIText.read(config, limit: ABIText.configLimit, what: "config")
        let set = try AzureInstanceSet.open(setID: id, config: text, environment: ProcessInfo.processInfo.environment,
                                            log: { log($0, $1) })
        out.pointee = OpaquePointer(Unmanaged.passRetained(SetHandle(set)).toOpaque())
        return CDD_OK
    } catch {
        return fail(error, err)
    }
}

/// Runs `body` on the set and answers.
private func call(_ set: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                  _ err: UnsafeMutablePointer<cdd_error>?, _ body: (AzureInstanceSet, Data) throws(AzureError) -> Data) -> cdd_status {
    guard let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "no reply pointer") }
    out.pointee = nil
    guard let set else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "no instance set") }
    let handle = Unmanaged<SetHandle>.fromOpaque(UnsafeRawPointer(set)).takeUnretainedValue()
    do throws(AzureError) {
        let instanceSet = try handle.set()
        let text = try ABIText.read(request, limit: ABIText.requestLimit, what: "request")
        if let parsed = JSONValue.parse(text) { try RequestLimits.check(parsed) }
        return reply(try body(instanceSet, Data(text.utf8)), out, err)
    } catch {
        return fail(error, err)
    }
}

private func reply(_ data: Data, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    guard let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "no reply pointer") }
    out.pointee = strdup(String(decoding: data, as: UTF8.self))  // freed by free_string
    return CDD_OK
}

/// The error record: class, HTTP status, ARM's code and message, retry hint.
private func fail(_ error: AzureError, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    cdd_error_fill(err, error.errorClass.rawValue, Int32(clamping: error.httpStatus), UInt32(clamping: max(0, error.retryAfterMs)),
                   error.code, error.code.isEmpty ? error.message : "\(error.code): \(error.message)")
}

/// What the host holds for an open instance set. It stays a valid pointer after close_set (a few
/// bytes kept for the life of the process): close releases the set itself, and a later call
/// answers `invalid` instead of touching freed memory; a second close does nothing.
private final class SetHandle: Sendable {
    let setID: String
    private let state: Mutex<AzureInstanceSet?>

    init(_ set: AzureInstanceSet) {
        setID = set.setID
        state = Mutex(set)
    }

    func close() { state.withLock { $0 = nil } }

    /// The open set (a call in flight keeps it alive even if close runs meanwhile).
    func set() throws(AzureError) -> AzureInstanceSet {
        guard let set = state.withLock({ $0 }) else { throw AzureError(.invalid, "instance set \(setID) is closed") }
        return set
    }
}
