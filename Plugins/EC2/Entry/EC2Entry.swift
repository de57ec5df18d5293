// The EC2 driver's exported entry point: C in, EC2Core out. cdd_negotiate and every member
// of the table come from DriverSupport (DriverEntry); the .so exports only those two
// (support/cdd-driver.exports).
import DriverSupport
import EC2Core
import PluginABI

@_cdecl("cdd_open")
public func cdd_open(_ agreed: UInt32, _ host: UnsafePointer<cdd_host>?, _ driver: UnsafeMutablePointer<cdd_driver>?,
                     _ err: UnsafeMutablePointer<cdd_error>?) -> cdd_status {
    DriverEntry.open(EC2InstanceSet.driver, agreed, host, driver, err)
}
