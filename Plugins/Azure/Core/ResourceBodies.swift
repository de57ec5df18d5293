import CCurl
import DriverSupport
import Foundation

/// The PUT bodies of what a create makes: a NIC, an optional public IP, and the VM. Field
/// names and enums are azure-mgmt-network 33.1.0's and azure-mgmt-compute 39.0.0's; the fake
/// ARM server in Tests/azure checks every body against those models.
struct ResourceBodies {
    let config: AzureConfig
    let setID: String

    /// Tags on the NIC and public IP: the request's, plus the set and the creation time, so a
    /// sweep can tell this set's leftovers and their age (docs/drivers/azure.md, Tags).
    func resourceTags(_ tags: [String: String], now: Int) -> [String: String] {
        tags.merging([OwnTags.set: setID, OwnTags.created: String(now)]) { $1 }
    }

    func publicIP(tags: [String: String], now: Int) -> JSONValue {
        var body: JSONValue = [
            "location": .string(config.location), "tags": .strings(resourceTags(tags, now: now)),
            "sku": ["name": "Standard", "tier": "Regional"],
            "properties": ["publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4", "deleteOption": "Delete"],
        ]
        if let zone = config.zone, case .object(var o) = body { o["zones"] = [.string(zone)]; body = .object(o) }
        return body
    }

    func nic(tags: [String: String], publicIPID: String?, now: Int) -> JSONValue {
        var ipProperties: [String: JSONValue] = ["subnet": ["id": .string(config.subnetID)], "privateIPAllocationMethod": "Dynamic",
                                                 "primary": true]
        if let publicIPID { ipProperties["publicIPAddress"] = ["id": .string(publicIPID), "properties": ["deleteOption": "Delete"]] }
        var properties: [String: JSONValue] = ["ipConfigurations": [["name": "ipconfig1", "properties": .object(ipProperties)]]]
        if let nsg = config.networkSecurityGroupID { properties["networkSecurityGroup"] = ["id": .string(nsg)] }
        return ["location": .string(config.location), "tags": .strings(resourceTags(tags, now: now)), "properties": .object(properties)]
    }

    func vm(name: String, request: CreateRequest, image: ImageReference, nicID: String, sshKey: String) throws(DriverError) -> JSONValue {
        let type = request.instanceType
        var osDisk: [String: JSONValue] = ["name": .string(Names.osDisk(name)), "createOption": "FromImage", "deleteOption": "Delete",
                                           "caching": "ReadWrite", "managedDisk": ["storageAccountType": .string(config.osDiskType)]]
        if let size = config.osDiskSizeGB { osDisk["diskSizeGB"] = .number(Double(size)) }
        var storage: [String: JSONValue] = ["imageReference": image.json, "osDisk": .object(osDisk)]
        if let scratch = type.addedScratch, scratch > 0 {
            let gib = (scratch + (1 << 30) - 1) >> 30
            storage["dataDisks"] = [["lun": 0, "name": .string(Names.dataDisk(name)), "createOption": "Empty", "deleteOption": "Delete",
                                     "diskSizeGB": .number(Double(gib)), "managedDisk": ["storageAccountType": .string(config.dataDiskType)]]]
        }
        var os: [String: JSONValue] = [
            "computerName": .string(name), "adminUsername": .string(config.adminUsername),
            "linuxConfiguration": ["disablePasswordAuthentication": true, "ssh": ["publicKeys": [[
                "path": .string("/home/\(config.adminUsername)/.ssh/authorized_keys"), "keyData": .string(sshKey)]]]],
        ]
        if let script = request.initScript, !script.isEmpty {
            guard script.utf8.count <= Self.customDataLimit else {
                throw .invalid("create: init_script is \(script.utf8.count) bytes; Azure's customData takes at most \(Self.customDataLimit)")
            }
            os["customData"] = .string(Data(script.utf8).base64EncodedString())
        }
        var properties: [String: JSONValue] = [
            "hardwareProfile": ["vmSize": .string(type.providerType)],
            "storageProfile": .object(storage),
            "osProfile": .object(os),
            "networkProfile": ["networkInterfaces": [["id": .string(nicID), "properties": ["primary": true, "deleteOption": "Delete"]]]],
        ]
        if type.preemptible {
            properties["priority"] = "Spot"
            properties["evictionPolicy"] = "Delete"
            properties["billingProfile"] = ["maxPrice": .number(config.spotMaxPrice.cap(for: type.providerType))]
        }
        var body: [String: JSONValue] = ["location": .string(config.location), "tags": .strings(request.tags), "properties": .object(properties)]
        if let zone = config.zone { body["zones"] = [.string(zone)] }
        return .object(body)
    }

    /// Azure decodes customData to at most 65,535 bytes.
    static let customDataLimit = 65_535
}

/// Tags the driver adds to the NICs and public IPs it makes (never to VMs, which carry exactly
/// the request's tags).
public enum OwnTags {
    public static let set = "cloud-dispatch-azure-set"
    public static let created = "cloud-dispatch-azure-created"
}

/// A fresh ed25519 key for a create that brings no SSH key (Azure refuses a Linux VM without
/// one when passwords are off). Its private half is never kept: nobody can log in with it.
enum LockedKey {
    static func make() throws(DriverError) -> String {
        guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else { throw DriverError(.internal, "ed25519 unavailable") }
        defer { EVP_PKEY_CTX_free(ctx) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_keygen(ctx, &key) == 1, let key else {
            throw DriverError(.internal, "ed25519 key generation failed")
        }
        defer { EVP_PKEY_free(key) }
        var raw = [UInt8](repeating: 0, count: 32)
        var length = 32
        guard EVP_PKEY_get_raw_public_key(key, &raw, &length) == 1, length == 32 else {
            throw DriverError(.internal, "ed25519 public key unreadable")
        }
        func field(_ bytes: [UInt8]) -> [UInt8] {
            let n = UInt32(bytes.count)
            return [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] + bytes
        }
        let blob = field(Array("ssh-ed25519".utf8)) + field(raw)
        return "ssh-ed25519 " + Data(blob).base64EncodedString() + " cloud-dispatch-locked"
    }
}
