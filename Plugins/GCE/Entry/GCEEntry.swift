// The GCE driver's exported entry points: C in, GCECore out, through the shared entry glue
// (DriverSupport's DriverEntry). Only these two are exported (support/cdd-driver.exports).
import DriverSupport
import GCECore
import PluginABI

private let gce = DriverDescription(
    id: "gce", version: "1.0.0", summary: "Google Compute Engine (Compute v1 REST, OAuth2, libcurl)",
    capabilities: GCEInstanceSet.capabilities, offersInterruptions: true) { setID, config, environment, log throws(DriverError) in
    try GCEInstanceSet.open(setID: setID, config: config, environment: environment, log: log)
}

@_cdecl("cdd_negotiate")
public func cdd_negotiate(_ hostVersion: UInt32, _ agreed: UnsafeMutablePointer<UInt32>?) -> cdd_status {
    DriverEntry.negotiate(hostVersion, agreed)
}

@_cdecl("cdd_open")
public func cdd_open(_ agreed: UInt32, _ host: UnsafePointer<cdd_host>?, _ driver: UnsafeMutablePointer<cdd_driver>?,
                     _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    DriverEntry.open(gce, agreed, host, driver, err)
}
