// The Azure driver's exported entry points: C in, AzureCore out, through the shared entry glue
// (DriverSupport's DriverEntry). Only these two are exported (support/cdd-driver.exports).
import AzureCore
import DriverSupport
import PluginABI

private let azure = DriverDescription(
    id: "azure", version: "1.0.0", summary: "Microsoft Azure (Resource Manager REST, libcurl)",
    capabilities: AzureInstanceSet.capabilities, offersInterruptions: true) { setID, config, environment, log throws(DriverError) in
    try AzureInstanceSet.open(setID: setID, config: config, environment: environment, log: log)
}

@_cdecl("cdd_negotiate")
public func cdd_negotiate(_ hostVersion: UInt32, _ agreed: UnsafeMutablePointer<UInt32>?) -> cdd_status {
    DriverEntry.negotiate(hostVersion, agreed)
}

@_cdecl("cdd_open")
public func cdd_open(_ agreed: UInt32, _ host: UnsafePointer<cdd_host>?, _ driver: UnsafeMutablePointer<cdd_driver>?,
                     _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    DriverEntry.open(azure, agreed, host, driver, err)
}
