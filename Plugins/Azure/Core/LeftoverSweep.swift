import DriverSupport
import Foundation

/// The leftover sweep, run from `list` at most every `gc_interval` seconds: NICs and public IPs
/// tagged with this set and attached to nothing, and disks named with this set's prefix and
/// attached to nothing, older than `gc_after` seconds, are deleted. So a create that failed
/// half-way (or a host that died in the middle of one) never leaves billable resources behind
/// for longer than that.
extension AzureInstanceSet {
    func sweepIfDue(nics: [JSONValue]?, ips: [JSONValue]?) {
        guard config.gcAfterSeconds > 0 else { return }
        let now = clock()
        let due = lastSweep.withLock { last in
            guard now - last >= config.gcIntervalSeconds else { return false }
            last = now
            return true
        }
        guard due else { return }
        do throws(DriverError) {
            let removed = try sweep(now: now, nics: nics, ips: ips)
            if !removed.isEmpty { log(.info, "leftover sweep deleted \(removed.joined(separator: " "))") }
        } catch {
            // The listing itself stands; the sweep tries again next interval.
            log(.warn, "leftover sweep failed: \(error.description)")
        }
    }

    /// One sweep; returns the names it deleted.
    @discardableResult
    public func sweep(now: Int, nics given: [JSONValue]? = nil, ips givenIPs: [JSONValue]? = nil) throws(DriverError) -> [String] {
        var nics = given ?? []
        if given == nil { nics = try arm.list(arm.groupPath(.networkInterface), apiVersion: APIVersions.network) }
        var ips = givenIPs ?? []
        if givenIPs == nil { ips = try arm.list(arm.groupPath(.publicIPAddress), apiVersion: APIVersions.network) }
        let disks = try arm.list(arm.groupPath(.disk), apiVersion: APIVersions.disks)
        let oldEnough = now - config.gcAfterSeconds
        var removed: [String] = []
        var goneNICs: [String] = []

        for nic in nics where isOurs(nic) && nic["properties"]["virtualMachine"]["id"].string == nil && createdAt(nic) <= oldEnough {
            guard let name = nic["name"].string, deleteResource(.networkInterface, name, boundSeconds: 0) else { continue }
            removed.append(name)
            if let id = nic["id"].string { goneNICs.append(id.lowercased() + "/") }
        }
        for ip in ips where isOurs(ip) && createdAt(ip) <= oldEnough {
            // Attached to nothing, or to a NIC deleted just now.
            if let attached = ip["properties"]["ipConfiguration"]["id"].string?.lowercased(),
               !goneNICs.contains(where: { attached.hasPrefix($0) }) { continue }
            guard let name = ip["name"].string, deleteResource(.publicIPAddress, name, boundSeconds: 0) else { continue }
            removed.append(name)
        }
        let prefix = Names.setPrefix(setID)
        for disk in disks {
            guard let name = disk["name"].string, name.hasPrefix(prefix),
                  (disk["managedBy"].string ?? "").isEmpty,
                  ["Unattached", ""].contains(disk["properties"]["diskState"].string ?? ""),
                  let created = disk["properties"]["timeCreated"].string.flatMap(Timestamp.seconds), created <= oldEnough,
                  deleteResource(.disk, name, boundSeconds: 0) else { continue }
            removed.append(name)
        }
        return removed
    }

    private func isOurs(_ resource: JSONValue) -> Bool { resource["tags"][OwnTags.set].string == setID }

    /// The creation time the driver tagged; untagged counts as new (never swept by accident).
    private func createdAt(_ resource: JSONValue) -> Int {
        resource["tags"][OwnTags.created].string.flatMap { Int($0) } ?? Int.max
    }
}

/// ARM's timestamps (`2026-12-02T08:00:00.1234567+00:00`, or with `Z`) to epoch seconds.
public enum Timestamp {
    public static func seconds(_ text: String) -> Int? {
        let chars = Array(text)
        guard chars.count >= 19 else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        guard let base = formatter.date(from: String(chars[0..<19])) else { return nil }
        var offset = 0
        var rest = chars[19...]
        while let c = rest.first, c == "." || c.isNumber { rest = rest.dropFirst() }
        if rest.count == 6, let sign = rest.first, sign == "+" || sign == "-",
           let h = Int(String(rest.dropFirst().prefix(2))), let m = Int(String(rest.suffix(2))) {
            offset = (h * 3600 + m * 60) * (sign == "+" ? 1 : -1)
        } else if !(rest.isEmpty || rest == ["Z"]) {
            return nil
        }
        return Int(base.timeIntervalSince1970) - offset
    }
}
