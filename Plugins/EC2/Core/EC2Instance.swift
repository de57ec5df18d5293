/// One instance as DescribeInstances / RunInstances describe it (an `instancesSet/item`).
import DriverSupport
public struct EC2Instance: Sendable, Equatable {
    public var id: String
    public var type: String
    /// EC2's state name: pending, running, shutting-down, terminated, stopping, stopped.
    public var state: String
    public var privateIP: String
    public var publicIP: String
    public var tags: [String: String]
    public var spot: Bool
    public var launchTime: String
    public var zone: String
    public var subnet: String
    public var clientToken: String

    /// States the ABI reports; shutting-down and terminated instances are gone for the host.
    public static let liveStates = ["pending", "running", "stopping", "stopped"]

    public init(item: XMLNode) {
        id = item.text("instanceId") ?? ""
        type = item.text("instanceType") ?? ""
        state = item.text("instanceState", "name") ?? ""
        privateIP = item.text("privateIpAddress") ?? ""
        publicIP = item.text("ipAddress") ?? ""
        var tags: [String: String] = [:]
        for tag in item.path("tagSet", "item") {
            if let key = tag.text("key") { tags[key] = tag.text("value") ?? "" }
        }
        self.tags = tags
        spot = item.text("instanceLifecycle") == "spot"
        launchTime = item.text("launchTime") ?? ""
        zone = item.text("placement", "availabilityZone") ?? ""
        subnet = item.text("subnetId") ?? ""
        clientToken = item.text("clientToken") ?? ""
    }

    /// Every instance of a DescribeInstances page (reservations) or a RunInstances reply.
    public static func all(in root: XMLNode) -> [EC2Instance] {
        (root.path("reservationSet", "item", "instancesSet", "item") + root.path("instancesSet", "item")).map(EC2Instance.init)
    }

    public var isLive: Bool { Self.liveStates.contains(state) }

    /// The ABI's view of it.
    public func reply(sshUser: String, usePublicIP: Bool, tags override: [String: String]? = nil) -> InstanceReply {
        var extra = ["zone": zone, "subnet": subnet, "private_ip": privateIP]
        if !publicIP.isEmpty { extra["public_ip"] = publicIP }
        extra = extra.filter { !$0.value.isEmpty }
        return InstanceReply(id: id, providerType: type, state: isLive ? state : "stopping",
                             address: usePublicIP && !publicIP.isEmpty ? publicIP : privateIP,
                             sshUser: sshUser, tags: override ?? tags, preemptible: spot,
                             createdAt: Self.rfc3339(launchTime), extra: extra)
    }

    /// EC2 writes `2026-11-29T10:00:00.000Z`; anything else is left out rather than passed on
    /// in a form the ABI's date-time check would refuse.
    static func rfc3339(_ s: String) -> String? {
        let ok = s.count >= 20 && s.hasSuffix("Z") && s.dropLast().allSatisfy { $0.isNumber || "-T:.".contains($0) }
        return ok ? s : nil
    }

    /// EC2's instance id shape; anything else cannot exist.
    public static func isWellFormedID(_ id: String) -> Bool {
        guard id.hasPrefix("i-") else { return false }
        let hex = id.dropFirst(2)
        return (hex.count == 8 || hex.count == 17) && hex.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}
