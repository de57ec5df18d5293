import PluginABI

/// A plugin's function table as the loader checks it after the open entry point filled it:
/// the same struct_size rule, identity members and mandatory-member rule for every kind.
protocol PluginTable {
    static var kind: PluginKind { get }
    /// The bytes every 1.x plugin of this kind must fill.
    static var minimumSize: Int { get }
    var struct_size: UInt32 { get set }
    var abi_version: UInt32 { get set }
    /// The id, version and description members.
    var identity: (id: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?, description: UnsafePointer<CChar>?) { get }
    /// Each member the ABI requires, by its C name, and whether it is set.
    var mandatoryMembers: [(String, Bool)] { get }
}

extension cdd_driver: PluginTable {
    static var kind: PluginKind { .driver }
    static var minimumSize: Int { Int(cdd_driver_size_v1_0()) }
    var identity: (id: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?, description: UnsafePointer<CChar>?) {
        (id, version, description)
    }
    var mandatoryMembers: [(String, Bool)] {
        [
            ("id", id != nil), ("version", version != nil), ("capabilities", capabilities != nil),
            ("open_set", open_set != nil), ("close_set", close_set != nil), ("create", create != nil),
            ("list", list != nil), ("destroy", destroy != nil), ("set_tags", set_tags != nil),
            ("instance_types", instance_types != nil), ("quota_group", quota_group != nil),
            ("free_string", free_string != nil),
        ]
    }
}

extension cdx_executor: PluginTable {
    static var kind: PluginKind { .executor }
    static var minimumSize: Int { Int(cdx_executor_size_v1_0()) }
    var identity: (id: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?, description: UnsafePointer<CChar>?) {
        (id, version, description)
    }
    var mandatoryMembers: [(String, Bool)] {
        [
            ("id", id != nil), ("version", version != nil), ("capabilities", capabilities != nil),
            ("open_backend", open_backend != nil), ("close_backend", close_backend != nil), ("capacity", capacity != nil),
            ("submit", submit != nil), ("list", list != nil), ("cancel", cancel != nil), ("release", release != nil),
            ("log_tail", log_tail != nil), ("free_string", free_string != nil),
        ]
    }
}

/// A plugin file whose open entry point filled a table that passed the checks.
struct OpenedTable<Table: PluginTable> {
    let info: DriverInfo
    let agreed: ABIVersion
    /// Never freed: the plugin may hold it.
    let table: UnsafeMutablePointer<Table>
    let services: HostServices
}
