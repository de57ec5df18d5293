import DriverSupport
import Foundation

/// The request bodies of `instances.insert` (an Instance) and `instances.bulkInsert` (a
/// BulkInsertInstanceResource), from a create request and the config. Field names are
/// Compute v1's (the fake checks them against Google's discovery document).
public struct InstanceBody {
    public let config: GCEConfig
    public let request: CreateRequest
    public let image: String
    public let setID: String

    public init(config: GCEConfig, request: CreateRequest, image: String, setID: String) {
        self.config = config
        self.request = request
        self.image = image
        self.setID = setID
    }

    /// Instance names for an idempotency token: `cdd-<10 hex>-0001` …, the same in every
    /// process and zone, so a repeated create finds what the first one made.
    public static func nameBase(setID: String, token: String) -> String {
        "cdd-" + Crypto.sha256Hex("\(setID)\n\(token)").prefix(10)
    }

    public static func name(base: String, index: Int) -> String { base + "-" + String(index).leftPadded(to: 4) }

    /// GCE's requestId must be a UUID: derived from the set, the token and the zone, so a
    /// retry of the same create in the same zone is deduplicated by GCE itself.
    public static func requestID(setID: String, token: String, zone: String) -> String {
        var hex = Array(Crypto.sha256Hex("\(setID)\n\(token)\n\(zone)").prefix(32))
        hex[12] = "5"  // version 5 (name-based, SHA), variant 10xx: a well-formed UUID
        hex[16] = ["8", "9", "a", "b"][Int(String(hex[16]), radix: 16)! % 4]
        let s = String(hex)
        let i = s.startIndex
        func part(_ a: Int, _ b: Int) -> Substring { s[s.index(i, offsetBy: a)..<s.index(i, offsetBy: b)] }
        return "\(part(0, 8))-\(part(8, 12))-\(part(12, 16))-\(part(16, 20))-\(part(20, 32))"
    }

    /// The Instance for `instances.insert` in `zone`.
    public func instance(name: String, zone: String) -> JSONValue {
        var o = properties(machineType: "zones/\(zone)/machineTypes/\(request.instanceType.providerType)",
                           diskType: { "zones/\(zone)/diskTypes/\($0)" })
        o["name"] = .string(name)
        return .object(o)
    }

    /// The BulkInsertInstanceResource for `count` instances named `<base>-0001` … The names
    /// are given one by one (`perInstanceProperties`), not as a `namePattern`: GCE numbers a
    /// pattern on after names that exist, so a repeated request would make new instances.
    public func bulk(base: String) -> JSONValue {
        .object([
            "count": .string(String(request.count)),
            "minCount": .string(String(config.partialLaunch ? 1 : request.count)),
            "perInstanceProperties": .object(Dictionary(uniqueKeysWithValues: (1...request.count).map {
                (Self.name(base: base, index: $0), JSONValue.object([:]))
            })),
            "instanceProperties": .object(properties(machineType: request.instanceType.providerType, diskType: { $0 })),
        ])
    }

    func properties(machineType: String, diskType: (String) -> String) -> [String: JSONValue] {
        var (labels, overflow) = Labels.split(request.tags)
        labels[Labels.setKey] = Labels.setValue(setID)
        var items: [JSONValue] = []
        if let key = request.sshPublicKey?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty {
            items.append(.object(["key": .string("ssh-keys"), "value": .string("\(config.sshUser):\(key)")]))
        }
        if let script = request.initScript, !script.isEmpty {
            items.append(.object(["key": .string("startup-script"), "value": .string(script)]))
        }
        if !overflow.isEmpty {
            items.append(.object(["key": .string(Labels.overflowKey), "value": .string(String(decoding: JSONValue.object(overflow.mapValues(JSONValue.string)).bytes, as: UTF8.self))]))
        }
        var disks: [JSONValue] = [.object([
            "boot": .bool(true), "autoDelete": .bool(true), "type": .string("PERSISTENT"),
            "initializeParams": .object(["sourceImage": .string(image), "diskSizeGb": .string(String(config.bootDiskSizeGB)),
                                         "diskType": .string(diskType(config.bootDiskType))]),
        ])]
        if let scratch = request.instanceType.addedScratch, scratch > 0 {
            let gib = (scratch + (1 << 30) - 1) >> 30
            disks.append(.object([
                "boot": .bool(false), "autoDelete": .bool(true), "type": .string("PERSISTENT"), "deviceName": .string("scratch"),
                "initializeParams": .object(["diskSizeGb": .string(String(gib)), "diskType": .string(diskType(config.scratchDiskType))]),
            ]))
        }
        var nic: [String: JSONValue] = ["network": .string(config.network)]
        if let subnetwork = config.subnetwork { nic["subnetwork"] = .string(subnetwork) }
        if config.externalIP {
            nic["accessConfigs"] = .array([.object(["type": .string("ONE_TO_ONE_NAT"), "name": .string("External NAT")])])
        }
        var o: [String: JSONValue] = [
            "machineType": .string(machineType),
            "labels": .object(labels.mapValues(JSONValue.string)),
            "metadata": .object(["items": .array(items)]),
            "disks": .array(disks),
            "networkInterfaces": .array([.object(nic)]),
        ]
        if !config.networkTags.isEmpty { o["tags"] = .object(["items": .array(config.networkTags.map(JSONValue.string))]) }
        if let sa = config.serviceAccount {
            o["serviceAccounts"] = .array([.object(["email": .string(sa), "scopes": .array(config.scopes.map(JSONValue.string))])])
        }
        if request.instanceType.preemptible {
            o["scheduling"] = .object(["provisioningModel": .string("SPOT"), "instanceTerminationAction": .string("DELETE"),
                                       "automaticRestart": .bool(false), "onHostMaintenance": .string("TERMINATE")])
        }
        return o
    }
}
