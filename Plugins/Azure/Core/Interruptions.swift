import DriverSupport
import Foundation

/// `cdd.interruptions/1`: Spot VMs of this set that Azure is taking back. A Spot VM created
/// with `evictionPolicy: Delete` is deallocated, then deleted, when evicted; ARM shows that as
/// its power state (`deallocating`, `deallocated`, `stopped`) or provisioning state
/// (`Deleting`) before it disappears. Only this set's VMs (their names carry its prefix) count,
/// and not those it is deleting itself.
extension AzureInstanceSet {
    public func interruptions(_ body: Data) throws(DriverError) -> Data {
        _ = try Payload.decode([String: JSONValue].self, body)
        let mine = destroying.withLock { $0 }
        let at = Self.rfc3339(clock())
        let notices = try virtualMachines()
            .filter { $0.spot && $0.name.hasPrefix(Names.setPrefix(setID)) && !mine.contains($0.name) && Self.isEvicted($0) }
            .map { NoticesReply.Notice(id: $0.name, at: at) }
        return Payload.encode(NoticesReply(notices: notices.sorted { $0.id < $1.id }))
    }

    static func isEvicted(_ vm: AzureVM) -> Bool {
        vm.isGoing || ["deallocating", "deallocated", "stopped", "stopping"].contains(vm.powerState ?? "")
    }

    static func rfc3339(_ time: Int) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(time)))
    }
}
