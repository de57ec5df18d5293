import PluginABI

/// The two kinds of plugin in a plugins folder: cloud drivers (`libcdd_<name>.so`,
/// cloud_dispatch_driver.h) and executor backends (`libcdx_<name>.so`,
/// cloud_dispatch_executor.h). They are found, checked, vetted and loaded by the same
/// `DriverLoader`; only the file prefix, the entry points and the table differ.
public enum PluginKind: String, Sendable, Hashable, Codable, CaseIterable {
    case driver
    case executor

    /// How its files are named: `<prefix><id>.so`.
    public var filePrefix: String { self == .driver ? "libcdd_" : "libcdx_" }
    var negotiateSymbol: String { self == .driver ? CDD_NEGOTIATE_SYMBOL : CDX_NEGOTIATE_SYMBOL }
    var openSymbol: String { self == .driver ? CDD_OPEN_SYMBOL : CDX_OPEN_SYMBOL }
    /// How refusals name it: "driver", "executor backend".
    public var noun: String { self == .driver ? "driver" : "executor backend" }
    /// The word in "duplicate driver id", "executor loaded".
    var shortNoun: String { rawValue }

    /// The version of its header this host was built with.
    public var hostVersion: ABIVersion { self == .driver ? .host : .executorHost }
    /// Bytes of its function table in this host's header.
    public var tableSize: Int { self == .driver ? MemoryLayout<cdd_driver>.size : MemoryLayout<cdx_executor>.size }

    /// The kind a file name says, or nil for a file that is neither.
    public init?(fileName: String) {
        guard fileName.hasSuffix(".so"), let kind = Self.allCases.first(where: { fileName.hasPrefix($0.filePrefix) }) else { return nil }
        self = kind
    }

    /// The entry point a loading stage runs: "cdx_open" for an executor's `.open`.
    func symbol(of stage: LoadStage) -> String? {
        switch stage {
        case .loading: nil
        case .negotiate: negotiateSymbol
        case .open: openSymbol
        }
    }
}
