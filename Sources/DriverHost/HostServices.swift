import Logging
import PluginABI
import Synchronization

/// The host side of `cdd_host`: where a driver's log lines go. One per loaded file; it lives
/// as long as the process, like the driver (drivers are never unloaded).
final class HostServices: Sendable {
    let logger: Logger
    /// Attribution for log lines: the file name until the driver's id is known.
    let label: Mutex<String>

    init(logger: Logger, label: String) {
        self.logger = logger
        self.label = Mutex(label)
    }

    /// A host table pointing at this object; deliberately never freed.
    func makeHostTable(agreed: ABIVersion) -> UnsafeMutablePointer<cdd_host> {
        let host = UnsafeMutablePointer<cdd_host>.allocate(capacity: 1)
        host.initialize(to: cdd_host())
        host.pointee.struct_size = UInt32(MemoryLayout<cdd_host>.size)
        host.pointee.abi_version = agreed.packed
        host.pointee.host_ctx = Unmanaged.passRetained(self).toOpaque()
        host.pointee.log = hostLog
        host.pointee.get_extension = hostGetExtension
        return host
    }
}

/// `cdd_host.log`: thread-safe, copies the message, never blocks on the driver.
private func hostLog(_ context: UnsafeMutableRawPointer?, _ level: Int32, _ message: UnsafePointer<CChar>?) {
    guard let context, let message else { return }
    let services = Unmanaged<HostServices>.fromOpaque(context).takeUnretainedValue()
    let text = CText.line(message, limit: 4096)
    let driver = services.label.withLock { $0 }
    let swiftLevel: Logger.Level =
        switch level {
        case CDD_LOG_ERROR: .error
        case CDD_LOG_WARN: .warning
        case CDD_LOG_INFO: .info
        case CDD_LOG_DEBUG: .debug
        default: .trace
        }
    services.logger.log(level: swiftLevel, "\(text)", metadata: ["driver": "\(driver)"])
}

/// `cdd_host.get_extension`: ABI 1.0 defines no host extensions.
private func hostGetExtension(_ context: UnsafeMutableRawPointer?, _ id: UnsafePointer<CChar>?) -> UnsafeRawPointer? {
    nil
}

/// Reading text a driver handed over, defensively.
enum CText {
    /// A C string as one printable line: invalid UTF-8 repaired, control characters replaced,
    /// clipped to `limit` bytes.
    static func line(_ pointer: UnsafePointer<CChar>, limit: Int) -> String {
        var length = 0
        while length < limit && pointer[length] != 0 { length += 1 }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        let text = String(decoding: bytes, as: UTF8.self)
        return String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : Character($0) })
    }

    /// A fixed-size char array from a C struct (imported as a tuple), as one line.
    static func line<T>(tuple: T, capacity: Int) -> String {
        withUnsafeBytes(of: tuple) { raw in
            let chars = raw.bindMemory(to: CChar.self)
            guard let base = chars.baseAddress else { return "" }
            var copy = [CChar](UnsafeBufferPointer(start: base, count: min(capacity, chars.count)))
            copy.append(0)  // a driver that filled every byte left no terminator
            return copy.withUnsafeBufferPointer { line($0.baseAddress!, limit: capacity) }
        }
    }
}
