// The entry points and the function table. Everything here is a capture-free global function
// (a C function pointer cannot capture context); state travels through the set handle.
import Foundation
import PluginABI

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
        return cdd_error_fill(err, CDD_E_ABI, 0, 0, "", "memory needs a 1.0-sized driver table")
    }
    // No driver_ctx: every call gives the same table, as the ABI asks.
    var table = cdd_driver()
    table.abi_version = agreed
    table.id = staticString("memory")
    table.version = staticString("0.1.0")
    table.description = staticString("a template driver: instances in memory")
    table.capabilities = { _, out, err in
        guard let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "NULL reply pointer") }
        out.pointee = strdup(MemoryCloud.capabilities)
        return CDD_OK
    }
    table.open_set = openSet
    table.close_set = { set in
        guard let set else { return }
        // The cloud goes; the box stays (retained for good) so a late call finds it empty.
        Unmanaged<SetBox>.fromOpaque(UnsafeRawPointer(set)).takeUnretainedValue().close()
    }
    table.create = { set, request, out, err in call(set, request, out, err) { try $0.create($1) } }
    table.list = { set, request, out, err in call(set, request, out, err) { try $0.list($1) } }
    table.destroy = { set, request, out, err in call(set, request, out, err) { try $0.destroy($1) } }
    table.set_tags = { set, request, out, err in call(set, request, out, err) { try $0.setTags($1) } }
    table.instance_types = { set, request, out, err in call(set, request, out, err) { try $0.instanceTypes($1) } }
    table.quota_group = { set, request, out, err in call(set, request, out, err) { try $0.quotaGroup($1) } }
    table.free_string = { _, string in free(string) }
    // Write only what both sides know.
    let size = min(Int(driver.pointee.struct_size), MemoryLayout<cdd_driver>.size)
    table.struct_size = UInt32(size)
    withUnsafeBytes(of: &table) { UnsafeMutableRawPointer(driver).copyMemory(from: $0.baseAddress!, byteCount: size) }
    return CDD_OK
}

/// A C string for the life of the process.
private func staticString(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

private func openSet(_ ctx: UnsafeMutableRawPointer?, _ setID: UnsafePointer<CChar>?, _ config: UnsafePointer<CChar>?,
                     _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    guard let setID, let config, let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "set id, config and set pointer are required") }
    guard cdd_valid_set_id(setID) == 1 else {
        return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "set_id: 1 to 64 characters, a letter or digit first, then letters, digits, '.', '_' or '-'")
    }
    do {
        let cloud = try MemoryCloud(setID: String(cString: setID), config: try parseObject(config, what: "config"))
        out.pointee = OpaquePointer(Unmanaged.passRetained(SetBox(cloud)).toOpaque())
        return CDD_OK
    } catch {
        return fail(error, err)
    }
}

/// Checks the arguments, runs `body` on the set's cloud, and answers.
private func call(_ set: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                  _ err: UnsafeMutablePointer<cdd_error>?, _ body: (MemoryCloud, [String: Any]) throws -> Any) -> cdd_status {
    guard let set, let request, let out else {
        return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "set, request and reply pointer are required (NULL given)")
    }
    let box = Unmanaged<SetBox>.fromOpaque(UnsafeRawPointer(set)).takeUnretainedValue()
    guard let cloud = box.cloud else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "instance set \(box.setID) is closed") }
    do {
        let reply = try body(cloud, try parseObject(request, what: "request"))
        let data = try JSONSerialization.data(withJSONObject: reply, options: [.sortedKeys])
        out.pointee = strdup(String(decoding: data, as: UTF8.self))  // freed by free_string
        return CDD_OK
    } catch let failure as DriverFailure {
        return fail(failure, err)
    } catch {
        return cdd_error_fill(err, CDD_E_INTERNAL, 0, 0, "", "reply: \(error)")
    }
}

/// A JSON object from a C string that must be UTF-8 (refused, not repaired, when it is not).
private func parseObject(_ text: UnsafePointer<CChar>, what: String) throws(DriverFailure) -> [String: Any] {
    guard let string = String(validatingCString: text) else { throw DriverFailure(CDD_E_INVALID, "\(what): not valid UTF-8") }
    guard let object = try? JSONSerialization.jsonObject(with: Data(string.utf8)) as? [String: Any] else {
        throw DriverFailure(CDD_E_INVALID, "\(what): not a JSON object")
    }
    return object
}

private func fail(_ error: any Error, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    let failure = error as? DriverFailure ?? DriverFailure(CDD_E_INTERNAL, "\(error)")
    return cdd_error_fill(err, failure.status, 0, 0, "", failure.message)
}
