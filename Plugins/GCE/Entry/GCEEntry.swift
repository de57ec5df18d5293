// The GCE driver's exported entry points: C in, GCECore out. Only cdd_negotiate and cdd_open
// are exported (support/cdd-driver.exports); every member is a capture-free closure (a C function pointer
// cannot capture context), and state travels through driver_ctx and the set handle.
import Foundation
import GCECore
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
        return cdd_error_fill(err, CDD_E_ABI, 0, 0, "", "gce needs a 1.0-sized driver table")
    }
    var table = cdd_driver()
    table.abi_version = agreed
    // The host table lives as long as the process: keep only its pointer, the first one given,
    // so every cdd_open fills the same table (driver_ctx included), as the ABI asks.
    _ = firstHost.compareExchange(expected: 0, desired: Int(bitPattern: host), ordering: .acquiringAndReleasing)
    table.driver_ctx = UnsafeMutableRawPointer(bitPattern: firstHost.load(ordering: .acquiring))
    table.id = staticCString("gce")
    table.version = staticCString("1.0.0")
    table.description = staticCString("Google Compute Engine (Compute v1 REST, OAuth2, libcurl)")
    table.capabilities = { _, out, err in reply(GCEInstanceSet.capabilities(), out, err) }
    table.open_set = gceOpenSet
    table.close_set = { set in
        // The handle itself is never freed: a late call on it answers invalid (SetHandle).
        guard let set else { return }
        Unmanaged<SetHandle>.fromOpaque(UnsafeRawPointer(set)).takeUnretainedValue().close()
    }
    table.create = { set, request, out, err in call(set, request, out, err) { s, d throws(GCEError) in try s.create(d) } }
    table.list = { set, request, out, err in call(set, request, out, err) { s, d throws(GCEError) in try s.list(d) } }
    table.destroy = { set, request, out, err in call(set, request, out, err) { s, d throws(GCEError) in try s.destroy(d) } }
    table.set_tags = { set, request, out, err in call(set, request, out, err) { s, d throws(GCEError) in try s.setTags(d) } }
    table.instance_types = { set, request, out, err in call(set, request, out, err) { s, d throws(GCEError) in try s.instanceTypes(d) } }
    table.quota_group = { set, request, out, err in call(set, request, out, err) { s, d throws(GCEError) in try s.quotaGroup(d) } }
    table.get_extension = { _, id in
        guard let id, String(cString: id) == CDD_EXT_INTERRUPTIONS else { return nil }
        return UnsafeRawPointer(interruptionsTable)
    }
    table.free_string = { _, string in free(string) }
    let size = min(Int(driver.pointee.struct_size), MemoryLayout<cdd_driver>.size)
    table.struct_size = UInt32(size)
    withUnsafeBytes(of: &table) { UnsafeMutableRawPointer(driver).copyMemory(from: $0.baseAddress!, byteCount: size) }
    return CDD_OK
}

/// The `cdd.interruptions/1` table, allocated once for the life of the process.
nonisolated(unsafe) private let interruptionsTable: UnsafeMutablePointer<cdd_ext_interruptions> = {
    let table = UnsafeMutablePointer<cdd_ext_interruptions>.allocate(capacity: 1)
    var value = cdd_ext_interruptions()
    value.struct_size = UInt32(MemoryLayout<cdd_ext_interruptions>.size)
    value.poll = { set, request, out, err in call(set, request, out, err) { s, d throws(GCEError) in try s.interruptions(d) } }
    table.initialize(to: value)
    return table
}()

/// A C string for the life of the process.
private func staticCString(_ s: StaticString) -> UnsafePointer<CChar> {
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

private func gceOpenSet(_ ctx: UnsafeMutableRawPointer?, _ setID: UnsafePointer<CChar>?, _ config: UnsafePointer<CChar>?,
                        _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    guard let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "open_set: no place for the set handle") }
    out.pointee = nil
    let log = HostLog(host: ctx.map { UnsafePointer($0.assumingMemoryBound(to: cdd_host.self)) })
    do throws(GCEError) {
        let id = try InputText.read(setID, limit: InputText.setIDLimit, what: "set id")
        guard InputText.isSetID(id) else { throw GCEError(.invalid, "set id \"\(id.prefix(16))\" is not [A-Za-z0-9][A-Za-z0-9._-]{0,63}") }
        let text = try InputText.read(config, limit: InputText.requestLimit, what: "config")
        let set = try GCEInstanceSet.open(setID: id, config: text, environment: ProcessInfo.processInfo.environment,
                                          log: { log($0, $1) })
        out.pointee = OpaquePointer(Unmanaged.passRetained(SetHandle(set)).toOpaque())
        return CDD_OK
    } catch {
        return fail(error, err)
    }
}

/// Runs `body` on the set and answers.
private func call(_ set: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                  _ err: UnsafeMutablePointer<cdd_error>?, _ body: (GCEInstanceSet, Data) throws(GCEError) -> Data) -> cdd_status {
    guard let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "no reply pointer") }
    out.pointee = nil
    guard let set else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "no instance set") }
    let handle = Unmanaged<SetHandle>.fromOpaque(UnsafeRawPointer(set)).takeUnretainedValue()
    do throws(GCEError) {
        let instanceSet = try handle.set()
        let text = try InputText.read(request, limit: InputText.requestLimit, what: "request")
        return reply(try body(instanceSet, Data(text.utf8)), out, err)
    } catch {
        return fail(error, err)
    }
}

private func reply(_ data: Data, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    guard let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "no reply pointer (NULL)") }
    out.pointee = strdup(String(decoding: data, as: UTF8.self))  // freed by free_string
    return CDD_OK
}

/// The error record: class, HTTP status, Google's reason or code, message, retry hint.
private func fail(_ error: GCEError, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    cdd_error_fill(err, error.errorClass.rawValue, Int32(clamping: error.httpStatus), UInt32(clamping: max(0, error.retryAfterMs)),
                   error.code, error.code.isEmpty ? error.message : "\(error.code): \(error.message)")
}
