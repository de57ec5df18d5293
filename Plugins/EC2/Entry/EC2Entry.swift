// The EC2 driver's exported entry points: C in, EC2Core out. Everything here is a
// capture-free global function (a C function pointer cannot capture context); state travels
// through driver_ctx and the instance-set handle.
import EC2Core
import Foundation
import PluginABI
import Synchronization

/// The first host table cdd_open was given (its address): every later cdd_open gives the
/// same table, driver_ctx included, as the ABI asks. The host table lives as long as the process.
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
        return cdd_error_fill(err, CDD_E_ABI, 0, 0, "", "ec2 needs a 1.0-sized driver table")
    }
    var table = cdd_driver()
    table.abi_version = agreed
    // The host table lives as long as the process: keep only its pointer, the first one given.
    _ = firstHost.compareExchange(expected: 0, desired: Int(bitPattern: host), ordering: .acquiringAndReleasing)
    table.driver_ctx = UnsafeMutableRawPointer(bitPattern: firstHost.load(ordering: .acquiring))
    table.id = cString("ec2")
    table.version = cString("1.0.0")
    table.description = cString("Amazon EC2 (Query API, SigV4, libcurl)")
    table.capabilities = { _, out, err in reply(EC2InstanceSet.capabilities(), out, err) }
    table.open_set = ec2OpenSet
    table.close_set = { set in
        guard let set else { return }
        // The set goes; the box stays (retained for good) for late calls to find it empty.
        Unmanaged<SetBox>.fromOpaque(UnsafeRawPointer(set)).takeUnretainedValue().set.withLock { $0 = nil }
    }
    table.create = { set, request, out, err in call(set, request, out, err) { s, d throws(EC2Error) in try s.create(d) } }
    table.list = { set, request, out, err in call(set, request, out, err) { s, d throws(EC2Error) in try s.list(d) } }
    table.destroy = { set, request, out, err in call(set, request, out, err) { s, d throws(EC2Error) in try s.destroy(d) } }
    table.set_tags = { set, request, out, err in call(set, request, out, err) { s, d throws(EC2Error) in try s.setTags(d) } }
    table.instance_types = { set, request, out, err in call(set, request, out, err) { s, d throws(EC2Error) in try s.instanceTypes(d) } }
    table.quota_group = { set, request, out, err in call(set, request, out, err) { s, d throws(EC2Error) in try s.quotaGroup(d) } }
    table.free_string = { _, string in free(string) }
    // Write only what both sides know.
    let size = min(Int(driver.pointee.struct_size), MemoryLayout<cdd_driver>.size)
    table.struct_size = UInt32(size)
    withUnsafeBytes(of: &table) { UnsafeMutableRawPointer(driver).copyMemory(from: $0.baseAddress!, byteCount: size) }
    return CDD_OK
}

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

/// The handle the host holds: the set until close_set, then nothing. The box itself is never
/// freed, so a call after close_set (or a second close_set) answers `invalid` instead of
/// touching freed memory.
private final class SetBox: Sendable {
    let setID: String
    let set: Mutex<EC2InstanceSet?>
    init(_ set: EC2InstanceSet) {
        setID = set.setID
        self.set = Mutex(set)
    }
}

private func ec2OpenSet(_ ctx: UnsafeMutableRawPointer?, _ setID: UnsafePointer<CChar>?, _ config: UnsafePointer<CChar>?,
                        _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    guard let setID, let config, let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "set id and config are required") }
    guard cdd_valid_set_id(setID) == 1, let id = String(validatingCString: setID) else {
        return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "set_id: must be 1 to \(CDD_MAX_SET_ID) characters, a letter or digit first, then letters, digits, '.', '_' or '-'")
    }
    guard let configText = String(validatingCString: config) else {
        return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "config: not valid UTF-8")
    }
    let log = HostLog(host: ctx.map { UnsafePointer($0.assumingMemoryBound(to: cdd_host.self)) })
    do throws(EC2Error) {
        let set = try EC2InstanceSet.open(setID: id, config: configText,
                                          environment: ProcessInfo.processInfo.environment, log: { log($0, $1) })
        out.pointee = OpaquePointer(Unmanaged.passRetained(SetBox(set)).toOpaque())
        return CDD_OK
    } catch {
        return fail(error, err)
    }
}

/// Runs `body` on the set and answers.
private func call(_ set: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                  _ err: UnsafeMutablePointer<cdd_error>?, _ body: (EC2InstanceSet, Data) throws(EC2Error) -> Data) -> cdd_status {
    guard let set, let request, let out else {
        return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "set, request and reply pointer are required (NULL given)")
    }
    let box = Unmanaged<SetBox>.fromOpaque(UnsafeRawPointer(set)).takeUnretainedValue()
    guard let instanceSet = box.set.withLock({ $0 }) else {
        return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "instance set \(box.setID) is closed")
    }
    // Refused, not repaired: a replacement character sent to EC2 would differ from what was asked.
    guard let text = String(validatingCString: request) else {
        return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "request: not valid UTF-8")
    }
    do throws(EC2Error) {
        return reply(try body(instanceSet, Data(text.utf8)), out, err)
    } catch {
        return fail(error, err)
    }
}

private func reply(_ data: Data, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    guard let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "NULL reply pointer") }
    out.pointee = strdup(String(decoding: data, as: UTF8.self))  // freed by free_string
    return CDD_OK
}

/// The error record: class, HTTP status, EC2's code and message, retry hint.
private func fail(_ error: EC2Error, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    cdd_error_fill(err, error.errorClass.rawValue, Int32(clamping: error.httpStatus), UInt32(clamping: max(0, error.retryAfterMs)),
                   error.code, error.code.isEmpty ? error.message : "\(error.code): \(error.message)")
}
