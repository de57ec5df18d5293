import Foundation
import PluginABI
import Synchronization

// The C side of a Swift driver: negotiation, the function table, set handles, error records.
// Every table member is a capture-free closure (a C function pointer cannot capture context);
// state travels through driver_ctx, the set handle and the one description a library has.

/// The first host table cdd_open was given (its address): every later cdd_open gives the
/// same table, driver_ctx included, as the ABI asks. The host table lives as long as the process.
private let firstHost = Atomic<Int>(0)
/// The driver this library is: one per .so, set by its cdd_open.
private let described = Mutex<DriverDescription?>(nil)

/// The ABI's negotiation, the same for every Swift driver built on this library: its .so
/// exports this one, and a cdd_open of its own that calls `DriverEntry.open`.
/// Same major as ours, or `CDD_E_ABI`; the minor is the smaller of the two. No allocation, no threads.
@_cdecl("cdd_negotiate")
public func cdd_negotiate(_ hostVersion: UInt32, _ agreed: UnsafeMutablePointer<UInt32>?) -> cdd_status {
    guard let agreed, cdd_version_major(hostVersion) == UInt32(CDD_ABI_VERSION_MAJOR) else { return CDD_E_ABI }
    agreed.pointee = cdd_make_version(UInt32(CDD_ABI_VERSION_MAJOR), min(cdd_version_minor(hostVersion), UInt32(CDD_ABI_VERSION_MINOR)))
    return CDD_OK
}

/// What a Swift driver's cdd_open calls, with the driver's description:
///
///     @_cdecl("cdd_open")
///     public func cdd_open(...) -> cdd_status { DriverEntry.open(EC2InstanceSet.driver, agreed, host, driver, err) }
public enum DriverEntry {
    /// Fills the host's driver table for `driver`, writing only the members both sides know.
    public static func open(_ description: DriverDescription, _ agreed: UInt32, _ host: UnsafePointer<cdd_host>?,
                            _ driver: UnsafeMutablePointer<cdd_driver>?, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
        guard let driver, driver.pointee.struct_size >= cdd_driver_size_v1_0() else {
            return cdd_error_fill(err, CDD_E_ABI, 0, 0, "", "\(description.id) needs a 1.0-sized driver table")
        }
        described.withLock { $0 = $0 ?? description }
        var table = cdd_driver()
        table.abi_version = agreed
        _ = firstHost.compareExchange(expected: 0, desired: Int(bitPattern: host), ordering: .acquiringAndReleasing)
        table.driver_ctx = UnsafeMutableRawPointer(bitPattern: firstHost.load(ordering: .acquiring))
        table.id = cString(description.id)
        table.version = cString(description.version)
        table.description = cString(description.summary)
        table.capabilities = { _, out, err in
            guard let description = described.withLock({ $0 }) else { return cdd_error_fill(err, CDD_E_INTERNAL, 0, 0, "", "not open") }
            return reply(Payload.encode(description.capabilities), out, err)
        }
        table.open_set = openSet
        table.close_set = { set in
            guard let set else { return }
            // The handle itself is never freed: a late call on it answers invalid (SetHandle).
            Unmanaged<SetHandle>.fromOpaque(UnsafeRawPointer(set)).takeUnretainedValue().close()
        }
        table.create = { set, request, out, err in call(set, request, out, err) { s, d throws(DriverError) in try s.create(d) } }
        table.list = { set, request, out, err in call(set, request, out, err) { s, d throws(DriverError) in try s.list(d) } }
        table.destroy = { set, request, out, err in call(set, request, out, err) { s, d throws(DriverError) in try s.destroy(d) } }
        table.set_tags = { set, request, out, err in call(set, request, out, err) { s, d throws(DriverError) in try s.setTags(d) } }
        table.instance_types = { set, request, out, err in call(set, request, out, err) { s, d throws(DriverError) in try s.instanceTypes(d) } }
        table.quota_group = { set, request, out, err in call(set, request, out, err) { s, d throws(DriverError) in try s.quotaGroup(d) } }
        if description.offersInterruptions {
            table.get_extension = { _, id in
                guard let text = try? ABIText.read(id, limit: ABIText.extensionIDLimit, what: "extension id"),
                      text == CDD_EXT_INTERRUPTIONS else { return nil }
                return UnsafeRawPointer(interruptionsTable)
            }
        }
        table.free_string = { _, string in free(string) }
        let size = min(Int(driver.pointee.struct_size), MemoryLayout<cdd_driver>.size)
        table.struct_size = UInt32(size)
        withUnsafeBytes(of: &table) { UnsafeMutableRawPointer(driver).copyMemory(from: $0.baseAddress!, byteCount: size) }
        return CDD_OK
    }
}

/// `cdd.interruptions/1`, allocated once and kept for the life of the process (the ABI's rule
/// for extension tables); Swift globals are initialised once, thread-safely.
nonisolated(unsafe) private let interruptionsTable: UnsafeMutablePointer<cdd_ext_interruptions> = {
    let table = UnsafeMutablePointer<cdd_ext_interruptions>.allocate(capacity: 1)
    var t = cdd_ext_interruptions()
    t.struct_size = UInt32(MemoryLayout<cdd_ext_interruptions>.size)
    t.poll = { set, request, out, err in call(set, request, out, err) { s, d throws(DriverError) in try s.interruptions(d) } }
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

private func openSet(_ ctx: UnsafeMutableRawPointer?, _ setID: UnsafePointer<CChar>?, _ config: UnsafePointer<CChar>?,
                     _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    guard let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "open_set: no place for the set handle (NULL)") }
    out.pointee = nil
    let log = HostLog(host: ctx.map { UnsafePointer($0.assumingMemoryBound(to: cdd_host.self)) })
    do throws(DriverError) {
        guard let description = described.withLock({ $0 }) else { throw DriverError(.internal, "open_set before cdd_open") }
        let id = try ABIText.setID(setID)
        let text = try ABIText.read(config, limit: ABIText.configLimit, what: "config")
        let set = try description.open(id, text, ProcessInfo.processInfo.environment) { log($0, $1) }
        out.pointee = OpaquePointer(Unmanaged.passRetained(SetHandle(set)).toOpaque())
        return CDD_OK
    } catch {
        return fail(error, err)
    }
}

/// Runs `body` on the set with the request read (bounded, UTF-8 checked) and answers.
private func call(_ set: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                  _ err: UnsafeMutablePointer<cdd_error>?, _ body: (any DriverInstanceSet, Data) throws(DriverError) -> Data) -> cdd_status {
    guard let out else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "no reply pointer (NULL)") }
    out.pointee = nil
    guard let set else { return cdd_error_fill(err, CDD_E_INVALID, 0, 0, "", "no instance set (NULL)") }
    let handle = Unmanaged<SetHandle>.fromOpaque(UnsafeRawPointer(set)).takeUnretainedValue()
    do throws(DriverError) {
        let instanceSet = try handle.set()
        // Refused, not repaired: a replacement character sent to the cloud would differ from what was asked.
        let text = try ABIText.read(request, limit: ABIText.requestLimit, what: "request")
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

/// The error record: class, HTTP status, the cloud's code and message, retry hint.
private func fail(_ error: DriverError, _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    cdd_error_fill(err, error.errorClass.rawValue, Int32(clamping: error.httpStatus), UInt32(clamping: max(0, error.retryAfterMs)),
                   error.code, error.code.isEmpty ? error.message : "\(error.code): \(error.message)")
}
