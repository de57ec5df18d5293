import Foundation
import JSON
import Logging
import PluginABI

/// Calls the conformance kit makes on purpose around the host's own guards: an instance-set id
/// the host would refuse, bytes that are not UTF-8, NULL arguments, a call after close_set, a
/// short error record, cdd_open a second time. Each answers what the driver did; none of them
/// is ever made by the daemon. Every call runs on the pool under the call timeout.
extension NativeDriver {
    /// What one raw call answered.
    public struct ProbeAnswer: Sendable, Equatable {
        public var errorClass: ErrorClass?  // nil: CDD_OK
        public var message: String
        public var status: Int32
    }

    /// `open_set` with `id` as given (no host check). A set the driver opens is closed again.
    public func probeOpenSet(id: String, config: String) async throws(DriverError) -> ProbeAnswer {
        try await probe(.openSet) { d in
            var error = Self.makeErrorRecord()
            var set: OpaquePointer?
            let status = d.open_set!(d.driver_ctx, id, config, &set, &error)
            if status == CDD_OK, let set { d.close_set!(set) }
            return ProbeAnswer(status, error)
        }
    }

    /// Opens a throwaway set, closes it, then calls `list` on it and closes it again: the
    /// answer of the late `list` (a crash here ends the kit, loudly).
    public func probeCallAfterClose(id: String, config: String) async throws(DriverError) -> ProbeAnswer {
        try await probe(.list) { d in
            var error = Self.makeErrorRecord()
            var set: OpaquePointer?
            guard d.open_set!(d.driver_ctx, id, config, &set, &error) == CDD_OK, let set else { return ProbeAnswer(CDD_E_INTERNAL, error) }
            d.close_set!(set)
            var out: UnsafeMutablePointer<CChar>?
            error = Self.makeErrorRecord()
            let status = d.list!(set, #"{"tags": {}}"#, &out, &error)
            if let out { d.free_string!(d.driver_ctx, out) }
            d.close_set!(set)
            return ProbeAnswer(status, error)
        }
    }

    /// NULL where a pointer belongs: each case's name and answer. `free_string(NULL)` and
    /// `close_set(NULL)` must simply return; a NULL `err` must not be written.
    public func probeNullArguments(set: NativeInstanceSet) async throws(DriverError) -> [(String, ProbeAnswer)] {
        let handle = set.handle
        return try await probe(.list) { d in
            var answers: [(String, ProbeAnswer)] = []
            var error = Self.makeErrorRecord()
            var out: UnsafeMutablePointer<CChar>?
            answers.append(("list with a NULL request", ProbeAnswer(d.list!(handle.raw, nil, &out, &error), error)))
            if let out { d.free_string!(d.driver_ctx, out) }
            error = Self.makeErrorRecord()
            answers.append(("list with a NULL reply pointer", ProbeAnswer(d.list!(handle.raw, #"{"tags": {}}"#, nil, &error), error)))
            error = Self.makeErrorRecord()
            out = nil
            answers.append(("list on a NULL set", ProbeAnswer(d.list!(nil, #"{"tags": {}}"#, &out, &error), error)))
            if let out { d.free_string!(d.driver_ctx, out) }
            error = Self.makeErrorRecord()
            answers.append(("capabilities with a NULL reply pointer", ProbeAnswer(d.capabilities!(d.driver_ctx, nil, &error), error)))
            error = Self.makeErrorRecord()
            var opened: OpaquePointer?
            answers.append(("open_set with a NULL set id", ProbeAnswer(d.open_set!(d.driver_ctx, nil, "{}", &opened, &error), error)))
            if let opened { d.close_set!(opened) }
            out = nil
            let status = d.list!(handle.raw, "[]", &out, nil)  // a refusal with nowhere to write it
            if let out { d.free_string!(d.driver_ctx, out) }
            answers.append(("list with a NULL error record", ProbeAnswer(errorClass: ErrorClass(rawValue: status), message: "", status: status)))
            d.free_string!(d.driver_ctx, nil)
            d.close_set!(nil)
            return answers
        }
    }

    /// A refused `list` into an error record `size` bytes long, as a host built against an
    /// older, smaller `cdd_error` would pass: the answer, and whether any byte past `size` was
    /// written.
    public func probeShortErrorRecord(set: NativeInstanceSet, size: Int) async throws(DriverError) -> (ProbeAnswer, overran: Bool) {
        let handle = set.handle
        return try await probe(.list) { d in
            let canary: UInt8 = 0xA5
            let total = MemoryLayout<cdd_error>.size + 64
            let raw = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: MemoryLayout<cdd_error>.alignment)
            defer { raw.deallocate() }
            raw.initializeMemory(as: UInt8.self, repeating: 0, count: size)
            (raw + size).initializeMemory(as: UInt8.self, repeating: canary, count: total - size)
            let record = raw.bindMemory(to: cdd_error.self, capacity: 1)
            record.pointee.struct_size = UInt32(size)
            var out: UnsafeMutablePointer<CChar>?
            let status = d.list!(handle.raw, #"{"tags": "not an object"}"#, &out, record)
            if let out { d.free_string!(d.driver_ctx, out) }
            let overran = (size..<total).contains { raw.load(fromByteOffset: $0, as: UInt8.self) != canary }
            // Only the bytes the record has room for are read back.
            let messageOffset = MemoryLayout<cdd_error>.offset(of: \cdd_error.message)!
            let room = max(0, size - messageOffset)
            let message = room == 0 ? "" : CText.line((raw + messageOffset).assumingMemoryBound(to: CChar.self), limit: room)
            return (ProbeAnswer(errorClass: status == CDD_OK ? nil : ErrorClass(rawValue: status), message: message, status: status), overran)
        }
    }

    /// Calls the file's `cdd_open` once more with a fresh table: nil when it gives the same
    /// table contents as the first call, else what differs.
    public func probeReopen() async throws(DriverError) -> String? {
        let path = info.path
        let agreed = self.agreed
        let logger = self.logger
        return try await probe(.openSet) { [self] _ in
            let first = table
            guard let handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD), let symbol = dlsym(handle, CDD_OPEN_SYMBOL) else {
                return "cannot find cdd_open in \(path) again"
            }
            let open = unsafeBitCast(symbol, to: cdd_open_fn.self)
            let host = HostServices(logger: logger, label: (path as NSString).lastPathComponent).makeHostTable(agreed: agreed)
            let size = MemoryLayout<cdd_driver>.size
            let second = UnsafeMutablePointer<cdd_driver>.allocate(capacity: 1)  // the driver may keep it: never freed
            UnsafeMutableRawPointer(second).initializeMemory(as: UInt8.self, repeating: 0, count: size)
            second.pointee.struct_size = UInt32(size)
            second.pointee.abi_version = agreed.packed
            var error = Self.makeErrorRecord()
            let status = open(agreed.packed, host, second, &error)
            guard status == CDD_OK else {
                return "the second cdd_open failed with status \(status): \(CText.line(tuple: error.message, capacity: 512))"
            }
            let compared = Int(min(first.pointee.struct_size, second.pointee.struct_size))
            if memcmp(first, second, compared) == 0 { return nil }
            var differing: [String] = []
            if first.pointee.driver_ctx != second.pointee.driver_ctx { differing.append("driver_ctx") }
            if first.pointee.id != second.pointee.id { differing.append("id") }
            return "the second cdd_open filled a different table (\(differing.isEmpty ? "some member" : differing.joined(separator: ", ")))"
        }
    }

    private func probe<T: Sendable>(_ operation: DriverOperation, _ body: @escaping @Sendable (cdd_driver) -> T) async throws(DriverError) -> T {
        do throws(BlockingPool.Failure) {
            return try await pool.run(timeout: callTimeout) { [self] in body(table.pointee) }
        } catch {
            throw poolError(error, operation)
        }
    }
}

extension NativeDriver.ProbeAnswer {
    init(_ status: Int32, _ record: cdd_error) {
        self.init(
            errorClass: status == CDD_OK ? nil : ErrorClass(rawValue: status),
            message: CText.line(tuple: record.message, capacity: 512), status: status)
    }
}

extension NativeInstanceSet {
    /// Sends `bytes` as the request, as they are (not even UTF-8 is checked): for the kit's
    /// checks that a driver refuses what the host never sends.
    public func rawCall(_ operation: DriverOperation, bytes: [UInt8]) async throws(DriverError) -> JSONValue {
        var text = bytes.map { CChar(bitPattern: $0) }
        text.append(0)
        let request = text
        let set = handle
        return try await driver.call(operation, request: nil, timeout: driver.callTimeout) { driver, out, err in
            guard let member = operation.member(of: driver.table.pointee) else { return CDD_E_UNSUPPORTED }
            return request.withUnsafeBufferPointer { member(set.raw, $0.baseAddress, out, err) }
        }
    }
}
