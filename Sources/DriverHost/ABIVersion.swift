import PluginABI

/// A plugin ABI version (driver or executor): major in the high 16 bits, minor in the low 16.
public struct ABIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: UInt32
    public let minor: UInt32

    public init(major: UInt32, minor: UInt32) {
        self.major = major
        self.minor = minor
    }

    public init(packed: UInt32) {
        self.init(major: cdd_version_major(packed), minor: cdd_version_minor(packed))
    }

    /// The version of the header this host was built with.
    public static let host = ABIVersion(packed: cdd_abi_version())
    /// The version of the executor header (cloud_dispatch_executor.h) this host was built with.
    public static let executorHost = ABIVersion(packed: cdx_abi_version())

    public var packed: UInt32 { cdd_make_version(major, minor) }
    public var description: String { "\(major).\(minor)" }

    public static func < (a: ABIVersion, b: ABIVersion) -> Bool { a.packed < b.packed }
}
