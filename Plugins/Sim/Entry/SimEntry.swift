// The sim driver's exported entry points: C in, SimCore out. Everything here is a capture-free
// global function (a C function pointer cannot capture context); state travels through
// driver_ctx and the instance-set handle.
import Foundation
import PluginABI
import SimCore
import Synchronization

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
        return cdd_error_fill(err, CDD_E_ABI, 0, 0, "", "sim needs a 1.0-sized driver table")
    }
    var table = cdd_driver()
    table.abi_version = agreed
    table.id = cString("sim")
    table.version = cString("1.0.0")
    table.description = cString("a simulated cloud, in memory, with seeded faults")
    table.capabilities = simCapabilities
    table.open_set = simOpenSet
    table.close_set = simCloseSet
    table.create = { set, request, out, err in simCall(set, request, out, err) { try $0.create($1) } }
    table.list = { set, request, out, err in simCall(set, request, out, err) { try $0.list($1) } }
    table.destroy = { set, request, out, err in simCall(set, request, out, err) { try $0.destroy($1) } }
    table.set_tags = { set, request, out, err in simCall(set, request, out, err) { try $0.setTags($1) } }
    table.instance_types = { set, request, out, err in simCall(set, request, out, err) { try $0.instanceTypes($1) } }
    table.quota_group = { set, request, out, err in simCall(set, request, out, err) { try $0.quotaGroup($1) } }
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

private func simCapabilities(_ ctx: UnsafeMutableRawPointer?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                             _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    reply(SimCloud.capabilities(), out, err)
}

/// The handle the host holds: the cloud until close_set, then nothing. The box itself is
/// never freed, so a call after close_set (or a second close_set) finds it empty and answers
/// `invalid` instead of touching freed memory.
private final class SetBox: Sendable {
    let setID: String
    let cloud: Mutex<SimCloud?>
    init(_ cloud: SimCloud) {
        setID = cloud.setID
        self.cloud = Mutex(cloud)
    }
}

private func simOpenSet(_ ctx: UnsafeMutableRawPointer?, _ setID: UnsafePointer<CChar>?, _ config: UnsafePointer<CChar>?,
                        _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    guard let setID, let config, let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "set id and config are required") }
    guard cdd_valid_set_id(setID) == 1, let id = String(validatingCString: setID) else {
        return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "set_id: must be 1 to \(CDD_MAX_SET_ID) characters, a letter or digit first, then letters, digits, '.', '_' or '-'")
    }
    guard let configText = String(validatingCString: config) else {
        return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "config: not valid UTF-8")
    }
    let parsed: SimConfig
    do {
        parsed = try SimConfig.parse(Data(configText.utf8))
    } catch {
        return fail(error, err)
    }
    let box = SetBox(SimCloud(setID: id, config: parsed))
    out.pointee = OpaquePointer(Unmanaged.passRetained(box).toOpaque())
    return CDD_OK
}

private func simCloseSet(_ set: OpaquePointer?) {
    guard let set else { return }
    // The cloud goes; the box stays (retained for good) for late calls to find it empty.
    Unmanaged<SetBox>.fromOpaque(UnsafeRawPointer(set)).takeUnretainedValue().cloud.withLock { $0 = nil }
}

/// Parses the request, runs `body` on the set's cloud, and answers.
private func simCall(_ set: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                     _ err: UnsafeMutablePointer<cdd_error>?, _ body: (SimCloud, Data) throws -> Data) -> cdd_status {
    guard let set, let request, let out else {
        return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "set, request and reply pointer are required (NULL given)")
    }
    let box = Unmanaged<SetBox>.fromOpaque(UnsafeRawPointer(set)).takeUnretainedValue()
    guard let cloud = box.cloud.withLock({ $0 }) else {
        return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "instance set \(box.setID) is closed")
    }
    // Refused, not repaired: a replacement character stored in a tag would differ from what was sent.
    guard let text = String(validatingCString: request) else {
        return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "request: not valid UTF-8")
    }
    do {
        return reply(try body(cloud, Data(text.utf8)), out, err)
    } catch let error as SimError {
        return fail(error, err)
    } catch {
        return cdd_error_fill(err, CDD_E_INTERNAL, 0, 0, "", "\(error)")
    }
}

private func reply(_ data: Data, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    guard let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "NULL reply pointer") }
    out.pointee = strdup(String(decoding: data, as: UTF8.self))  // freed by free_string
    return CDD_OK
}

private func fail(_ error: SimError, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    switch error {
    case .invalid(let m): cdd_error_fill(err, CDD_E_INVALID, 400, 0, "InvalidParameter", m)
    case .notFound(let m): cdd_error_fill(err, CDD_E_NOT_FOUND, 404, 0, "NotFound", m)
    case .quota(let m): cdd_error_fill(err, CDD_E_QUOTA, 400, 0, "InstanceLimitExceeded", m)
    case .capacity(let m): cdd_error_fill(err, CDD_E_CAPACITY_TYPE, 500, 0, "InsufficientInstanceCapacity", m)
    case .rateLimit(let m, let ms): cdd_error_fill(err, CDD_E_RATE_LIMIT, 503, UInt32(ms), "RequestLimitExceeded", m)
    case .transient(let m): cdd_error_fill(err, CDD_E_TRANSIENT, 500, 0, "InternalError", m)
    case .unsupported(let m): cdd_error_fill(err, CDD_E_UNSUPPORTED, 0, 0, "", m)
    case .auth(let m): cdd_error_fill(err, CDD_E_AUTH, 401, 0, "AuthFailure", m)
    case .internal(let m): cdd_error_fill(err, CDD_E_INTERNAL, 0, 0, "", m)
    }
}
