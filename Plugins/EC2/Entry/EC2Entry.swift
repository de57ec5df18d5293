// The EC2 driver's exported entry points: C in, EC2Core out, through the shared entry glue
// (DriverSupport's DriverEntry). Only these two are exported (support/cdd-driver.exports).
import DriverSupport
import EC2Core
import PluginABI

private let ec2 = DriverDescription(
    id: "ec2", version: "1.0.0", summary: "Amazon EC2 (Query API, SigV4, libcurl)",
    capabilities: EC2InstanceSet.capabilities) { setID, config, environment, log throws(DriverError) in
    try EC2InstanceSet.open(setID: setID, config: config, environment: environment, log: log)
}

@_cdecl("cdd_negotiate")
public func cdd_negotiate(_ hostVersion: UInt32, _ agreed: UnsafeMutablePointer<UInt32>?) -> cdd_status {
    DriverEntry.negotiate(hostVersion, agreed)
}

@_cdecl("cdd_open")
public func cdd_open(_ agreed: UInt32, _ host: UnsafePointer<cdd_host>?, _ driver: UnsafeMutablePointer<cdd_driver>?,
                     _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    DriverEntry.open(ec2, agreed, host, driver, err)
}
