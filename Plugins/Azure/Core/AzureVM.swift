/// One VM as ARM describes it (GET, or an item of a list with `$expand=instanceView`), and
/// how the ABI sees it.
import DriverSupport
public struct AzureVM: Sendable, Equatable {
    public var name: String
    public var size: String
    public var tags: [String: String]
    public var provisioningState: String
    /// `running`, `deallocated` … from the instance view's `PowerState/…` status; nil when unknown.
    public var powerState: String?
    public var spot: Bool
    public var timeCreated: String?
    public var zone: String?
    public var nicIDs: [String]
    public var osDiskName: String?
    public var dataDiskNames: [String]
    public var etag: String?

    public init(_ json: JSONValue) {
        let p = json["properties"]
        name = json["name"].string ?? ""
        size = p["hardwareProfile"]["vmSize"].string ?? ""
        tags = json["tags"].stringMap
        provisioningState = p["provisioningState"].string ?? ""
        powerState = (p["instanceView"]["statuses"].array ?? []).compactMap { $0["code"].string }
            .first { $0.hasPrefix("PowerState/") }.map { String($0.dropFirst("PowerState/".count)) }
        spot = p["priority"].string == "Spot" || p["priority"].string == "Low"
        timeCreated = p["timeCreated"].string
        zone = json["zones"].array?.first?.string
        nicIDs = (p["networkProfile"]["networkInterfaces"].array ?? []).compactMap { $0["id"].string }
        osDiskName = p["storageProfile"]["osDisk"]["name"].string
        dataDiskNames = (p["storageProfile"]["dataDisks"].array ?? []).compactMap { $0["name"].string }
        etag = json["etag"].string
    }

    /// Being deleted: gone for the host.
    public var isGoing: Bool { provisioningState == "Deleting" }

    /// The ABI state: pending, running, stopping or stopped.
    public var state: String {
        switch powerState {
        case "starting": return "pending"
        case "running": return "running"
        case "stopping", "deallocating": return "stopping"
        case "stopped", "deallocated": return "stopped"
        default:
            // No power state yet: what the provisioning says.
            return provisioningState == "Failed" ? "stopped" : "pending"
        }
    }

    public func reply(sshUser: String, address: Addresses?, usePublicIP: Bool, tags override: [String: String]? = nil) -> InstanceReply {
        var extra = ["provisioning_state": provisioningState]
        if let zone { extra["zone"] = zone }
        if let power = powerState { extra["power_state"] = power }
        if let a = address?.privateIP { extra["private_ip"] = a }
        if let a = address?.publicIP { extra["public_ip"] = a }
        let chosen = usePublicIP ? address?.publicIP : address?.privateIP
        return InstanceReply(id: name, providerType: size, state: state, address: chosen ?? "", sshUser: sshUser,
                             tags: override ?? tags, preemptible: spot, createdAt: Self.rfc3339(timeCreated), extra: extra)
    }

    /// ARM writes `2026-11-29T10:00:00.1234567+00:00`; the ABI wants RFC 3339, which that is;
    /// anything else is left out rather than passed on in a form the schema would refuse.
    static func rfc3339(_ s: String?) -> String? {
        guard let s, s.count >= 20, s.dropLast(6).allSatisfy({ $0.isNumber || "-T:.Z".contains($0) }) else { return nil }
        let ok = s.hasSuffix("Z") || s.suffix(6).first == "+" || s.suffix(6).first == "-"
        return ok ? s : nil
    }
}

/// A VM's addresses, from its NIC (and the NIC's public IP).
public struct Addresses: Sendable, Equatable {
    public var privateIP: String?
    public var publicIP: String?
}
