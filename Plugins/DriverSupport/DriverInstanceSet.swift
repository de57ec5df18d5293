import Foundation
import PluginABI

/// An open instance set as the entry glue calls it: the ABI's operations, JSON in and JSON out.
/// [thread-safe] [may-block]: calls come from any host thread, several at once.
public protocol DriverInstanceSet: AnyObject, Sendable {
    var setID: String { get }
    func create(_ request: Data) throws(DriverError) -> Data
    func list(_ request: Data) throws(DriverError) -> Data
    func destroy(_ request: Data) throws(DriverError) -> Data
    func setTags(_ request: Data) throws(DriverError) -> Data
    func instanceTypes(_ request: Data) throws(DriverError) -> Data
    func quotaGroup(_ request: Data) throws(DriverError) -> Data
    /// `cdd.interruptions/1`'s poll; only asked of a driver whose description offers it.
    func interruptions(_ request: Data) throws(DriverError) -> Data
}

extension DriverInstanceSet {
    public func interruptions(_ request: Data) throws(DriverError) -> Data {
        throw DriverError(.unsupported, "interruption notices are not offered by this driver")
    }
}

/// What a driver tells the entry glue about itself: the table's strings, its capabilities,
/// how an instance set opens, and which extensions it offers.
public struct DriverDescription: Sendable {
    public let id: StaticString
    public let version: StaticString
    public let summary: StaticString
    public let capabilities: CapabilitiesReply
    public let open: @Sendable (_ setID: String, _ config: String, _ environment: [String: String],
                                _ log: @escaping Logger) throws(DriverError) -> any DriverInstanceSet
    /// Whether `cdd.interruptions/1` is offered (`DriverInstanceSet.interruptions`): when the
    /// capabilities name it.
    public var offersInterruptions: Bool { capabilities.extensions.contains(CDD_EXT_INTERRUPTIONS) }

    public init(id: StaticString, version: StaticString, summary: StaticString, capabilities: CapabilitiesReply,
                open: @escaping @Sendable (String, String, [String: String], @escaping Logger) throws(DriverError) -> any DriverInstanceSet) {
        self.id = id
        self.version = version
        self.summary = summary
        self.capabilities = capabilities
        self.open = open
    }
}
