@testable import AzureCore
import DriverSupport
import Foundation
import Testing

@Suite struct NamesAndInputTests {
    @Test func namesDeriveFromSetAndToken() {
        let a = Names.vm(setID: "prod-1", token: "c-7f3a9d", index: 0)
        #expect(a == Names.vm(setID: "prod-1", token: "c-7f3a9d", index: 0), "a repeated intent addresses the same VM")
        #expect(a != Names.vm(setID: "prod-1", token: "c-7f3a9e", index: 0))
        #expect(a != Names.vm(setID: "prod-2", token: "c-7f3a9d", index: 0), "two dispatchers never share a name")
        #expect(a != Names.vm(setID: "prod-1", token: "c-7f3a9d", index: 1))
        #expect(a.hasPrefix(Names.setPrefix("prod-1")) && a.count <= 64 && Names.isResourceName(a))
        #expect(Names.nic(a) == a + "-nic" && Names.osDisk(a) == a + "-os")
        #expect(!Names.isResourceName("../x") && !Names.isResourceName("a/b") && !Names.isResourceName("") && !Names.isResourceName(String(repeating: "a", count: 65)))
    }

    @Test func abiTextRefusesOverLongAndNonUTF8() throws {
        let long = String(repeating: "a", count: 65)
        #expect(failure { try long.withCString { try ABIText.setID($0) } }?.message.contains("longer than 64") == true)
        #expect(failure { try "bad id!".withCString { try ABIText.setID($0) } }?.errorClass == .invalid)
        #expect(failure { try ABIText.read(nil, limit: 10, what: "request") }?.message == "request: missing (NULL)")
        let bytes: [CChar] = [0x7b, CChar(bitPattern: 0xff), 0x7d, 0]
        let e = failure { try bytes.withUnsafeBufferPointer { try ABIText.read($0.baseAddress, limit: 100, what: "request") } }
        #expect(e?.errorClass == .invalid && e?.message == "request: not UTF-8")
        #expect(try "prod-1".withCString { try ABIText.setID($0) } == "prod-1")
        #expect(try "héllo".withCString { try ABIText.read($0, limit: 6, what: "x") } == "héllo")
        #expect(failure { try "héllo".withCString { try ABIText.read($0, limit: 5, what: "x") } } != nil, "the limit counts bytes")
    }
}

@Suite struct AzureConfigTests {
    let base = #""subscription_id": "sub", "resource_group": "rg", "location": "westeurope", "subnet_id": "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s""#

    /// The base config with `extra`'s members added or replacing the base's.
    func parse(_ extra: String) -> DriverError? {
        var object = try! JSONSerialization.jsonObject(with: Data("{\(base)}".utf8)) as! [String: Any]
        let more = try! JSONSerialization.jsonObject(with: Data("{\(extra.dropFirst())}".utf8)) as! [String: Any]
        object.merge(more) { $1 }
        let text = String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        return failure { try AzureConfig.parse(text, environment: [:]) }
    }

    @Test func defaultsAndImages() throws {
        let c = try AzureConfig.parse("{\(base)}", environment: [:])
        #expect(c.armEndpoint == "https://management.azure.com" && c.auth.authorityHost == "https://login.microsoftonline.com")
        #expect(!c.auth.usesServicePrincipal && c.gcAfterSeconds == 1200 && c.spotMaxPrice.cap(for: "x") == -1 && c.createConcurrency == 4)
        #expect(ImageReference(parsing: "Debian:debian-12:12-gen2:latest") == .marketplace(publisher: "Debian", offer: "debian-12", sku: "12-gen2", version: "latest"))
        let gallery = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/worker/versions/1.0.0"
        #expect(ImageReference(parsing: gallery) == .id(gallery))
        #expect(ImageReference(parsing: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/worker") != nil)
        #expect(ImageReference(parsing: "debian") == nil)
    }

    @Test func refusalsNameTheKey() {
        #expect(parse(#", "colour": 1"#)?.message.contains("\"colour\"") == true)
        #expect(failure { try AzureConfig.parse(#"{"subscription_id": "s", "resource_group": "rg", "location": "x"}"#, environment: [:]) }?.message.contains("subnet_id") == true)
        #expect(parse(#", "subnet_id": "subnet-1""#)?.message.contains("subnet_id") == true)
        #expect(parse(#", "image": "debian""#)?.message.contains("config.image") == true)
        #expect(parse(#", "client_secret": "x""#)?.message.contains("tenant_id") == true)
        #expect(parse(#", "spot_max_price": 0"#)?.message.contains("spot_max_price") == true)
        #expect(parse(#", "admin_username": "admin""#)?.message.contains("admin_username") == true)
        #expect(parse(#", "create_concurrency": 0"#)?.message.contains("create_concurrency") == true)
        #expect(parse(#", "resource_group": "rg/../x""#)?.message.contains("resource_group") == true)
        #expect(parse(#", "arm_endpoint": "ftp://x""#)?.message.contains("arm_endpoint") == true)
    }
}

@Suite struct VMViewTests {
    func vm(_ power: String?, provisioning: String = "Succeeded") -> AzureVM {
        var statuses: [JSONValue] = [["code": .string("ProvisioningState/\(provisioning.lowercased())")]]
        if let power { statuses.append(["code": .string("PowerState/\(power)")]) }
        return AzureVM(["name": "vm1", "tags": ["a": "b"], "properties": ["provisioningState": .string(provisioning),
                        "priority": "Spot", "timeCreated": "2026-12-02T08:00:00.1234567+00:00",
                        "hardwareProfile": ["vmSize": "Standard_D2s_v3"], "instanceView": ["statuses": .array(statuses)]]])
    }

    @Test func powerStatesMapToABIStates() {
        #expect(vm("starting").state == "pending")
        #expect(vm("running").state == "running")
        #expect(vm("stopping").state == "stopping" && vm("deallocating").state == "stopping")
        #expect(vm("stopped").state == "stopped" && vm("deallocated").state == "stopped")
        #expect(vm(nil, provisioning: "Creating").state == "pending")
        #expect(vm(nil, provisioning: "Failed").state == "stopped")
        #expect(vm("running", provisioning: "Deleting").isGoing)
        let r = vm("running").reply(sshUser: "azureuser", address: Addresses(privateIP: "10.0.0.4", publicIP: "20.1.2.3"), usePublicIP: false)
        #expect(r.address == "10.0.0.4" && r.preemptible && r.providerType == "Standard_D2s_v3" && r.extra["public_ip"] == "20.1.2.3")
        #expect(r.createdAt == "2026-12-02T08:00:00.1234567+00:00")
        #expect(vm("running").reply(sshUser: "u", address: Addresses(privateIP: "10.0.0.4", publicIP: "20.1.2.3"), usePublicIP: true).address == "20.1.2.3")
    }

    @Test func timestamps() {
        #expect(Timestamp.seconds("2015-08-30T12:36:00Z") == 1_440_938_160)
        #expect(Timestamp.seconds("2015-08-30T12:36:00.1234567+00:00") == 1_440_938_160)
        #expect(Timestamp.seconds("2015-08-30T14:36:00+02:00") == 1_440_938_160)
        #expect(Timestamp.seconds("yesterday") == nil)
    }
}

/// Resource SKUs restricted for the subscription: in the whole location the size is gone; in a
/// zone, only for a set that launches in that zone.
@Suite struct SKURestrictionTests {
    static func sku(_ restrictions: String) throws -> JSONValue {
        try #require(JSONValue.parse("""
            {"resourceType": "virtualMachines", "name": "Standard_D2s_v3", "family": "standardDSv3Family", "locations": ["westeurope"],
             "capabilities": [{"name": "vCPUs", "value": "2"}, {"name": "MemoryGB", "value": "8"}], "restrictions": [\(restrictions)]}
            """))
    }

    @Test func aZoneRestrictionTakesTheSizeOnlyFromThatZone() throws {
        let zoned = try Self.sku(#"{"type": "Zone", "values": ["westeurope"], "restrictionInfo": {"locations": ["westeurope"], "zones": ["2"]}, "reasonCode": "NotAvailableForSubscription"}"#)
        #expect(AzureInstanceSet.entry(zoned, location: "westeurope", zone: "2") == nil)
        #expect(AzureInstanceSet.entry(zoned, location: "westeurope", zone: "1")?.vcpus == 2)
        #expect(AzureInstanceSet.entry(zoned, location: "westeurope", zone: nil)?.vcpus == 2)
        let located = try Self.sku(#"{"type": "Location", "values": ["westeurope"], "reasonCode": "NotAvailableForSubscription"}"#)
        #expect(AzureInstanceSet.entry(located, location: "westeurope", zone: "1") == nil)
    }
}
