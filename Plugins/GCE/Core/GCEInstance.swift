import DriverSupport
import Foundation

/// One Compute Engine instance as `instances.get` / `list` describe it. Its ABI id is
/// `ZONE/NAME`: the name alone is unique only within a zone, and every call needs the zone.
public struct GCEInstance: Sendable, Equatable {
    public var zone: String
    public var name: String
    public var machineType: String
    public var status: String
    public var labels: [String: String]
    public var labelFingerprint: String?
    public var metadataFingerprint: String?
    public var metadataItems: [String: String]
    public var privateIP: String?
    public var publicIP: String?
    public var spot: Bool
    public var createdAt: String?

    public var id: String { "\(zone)/\(name)" }
    /// The instance set that made it (`Labels.setKey`), nil for one this driver did not make.
    public var setLabel: String? { labels[Labels.setKey] }

    public init?(_ json: JSONValue) {
        guard let name = json["name"].string, let zone = json["zone"].string.map(GCEClient.lastComponent) else { return nil }
        self.name = name
        self.zone = zone
        machineType = json["machineType"].string.map(GCEClient.lastComponent) ?? ""
        status = json["status"].string ?? ""
        labels = json["labels"].stringMap
        labelFingerprint = json["labelFingerprint"].string
        metadataFingerprint = json["metadata"]["fingerprint"].string
        var items: [String: String] = [:]
        for item in json["metadata"]["items"].array ?? [] {
            if let k = item["key"].string { items[k] = item["value"].string ?? "" }
        }
        metadataItems = items
        let nic = json["networkInterfaces"].array?.first
        privateIP = nic?["networkIP"].string
        publicIP = nic?["accessConfigs"].array?.compactMap { $0["natIP"].string }.first
        let scheduling = json["scheduling"]
        spot = scheduling["provisioningModel"].string == "SPOT" || scheduling["preemptible"].bool == true
        createdAt = json["creationTimestamp"].string
    }

    /// `ZONE/NAME` split, or nil for an id this driver cannot have made.
    public static func parseID(_ id: String) -> (zone: String, name: String)? {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, GCEConfig.isName(String(parts[0])), GCEConfig.isName(String(parts[1])) else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    /// GCE status → ABI state; nil for an instance that is not live.
    public var state: String? {
        switch status {
        case "PROVISIONING", "STAGING": "pending"
        case "RUNNING", "REPAIRING": "running"
        case "STOPPING", "SUSPENDING": "stopping"
        case "TERMINATED", "SUSPENDED", "STOPPED": "stopped"
        default: nil
        }
    }

    /// Tags: decoded labels plus the `cdd-tags` metadata item.
    public var tags: [String: String] {
        let overflow: [String: String]
        if let raw = metadataItems[Labels.overflowKey], case .object(let o)? = JSONValue.parse(raw) {
            overflow = o.compactMapValues(\.string)
        } else {
            overflow = [:]
        }
        return Labels.tags(labels: labels, overflow: overflow)
    }

    func reply(config: GCEConfig) -> InstanceReply? {
        guard let state else { return nil }
        let address = (config.usePublicAddress ? publicIP : privateIP) ?? ""
        var price: Double?
        if spot { price = config.spotPrices[machineType] } else { price = config.common.prices[machineType] }
        return InstanceReply(id: id, providerType: machineType, state: state, address: address, sshUser: config.sshUser,
                             tags: tags, preemptible: spot, createdAt: createdAt.flatMap(Self.rfc3339), price: price,
                             extra: ["zone": zone, "status": status])
    }

    /// GCE's `2026-11-29T02:00:00.000-08:00` is RFC 3339 already; anything else is left out.
    static func rfc3339(_ s: String) -> String? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if f.date(from: s) != nil { return s }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s) != nil ? s : nil
    }
}
