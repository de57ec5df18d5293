@testable import AzureCore
import DriverSupport
import Foundation
import Synchronization
import Testing

/// The driver against the fake ARM server (Tests/azure/fake_arm.py), which refuses any route,
/// api-version or body azure-mgmt-compute/network would not produce. Serialized: fault rules
/// and settings are server-wide. Every test ends by checking the fake saw no model violation.
@Suite(.serialized) struct FakeARMScenarioTests {
    let run = "r" + String(UInt32.random(in: 0...UInt32.max), radix: 36)

    func tags(_ name: String) -> [String: String] { ["cloud-dispatch-instance-set": "\(name)-\(run)"] }

    func list(_ set: AzureInstanceSet, _ tags: [String: String]) throws -> [[String: Any]] {
        json(try set.list(body(["tags": tags])))["instances"] as? [[String: Any]] ?? []
    }

    /// Nothing of this set left at the fake: no VM, NIC, public IP or disk named with its prefix.
    func leftovers(_ set: AzureInstanceSet) throws -> [String] {
        let prefix = Names.setPrefix(set.setID)
        return try ["virtualMachines", "networkInterfaces", "publicIPAddresses", "disks"].flatMap { try AzurePeer.names($0, prefix: prefix) }
    }

    func noViolations() throws {
        let v = try AzurePeer.violations()
        #expect(v.isEmpty, "the fake found requests or replies outside the SDK's models: \(v)")
    }

    @Test func createListDestroyLeavesNothing() throws {
        try AzurePeer.clearFaults()
        let set = try AzurePeer.set("life-\(run)")
        let t = tags("life")
        let made = try set.create(createRequest(tags: t, count: 3, addedScratch: 1 << 30))
        #expect(ids(made).count == 3)
        let listed = try list(set, t)
        #expect(listed.count == 3)
        for i in listed {
            #expect(i["tags"] as? [String: String] == t, "exactly the request's tags")
            #expect((i["address"] as? String ?? "").hasPrefix("10.0.0."))
            #expect(["pending", "running"].contains(i["state"] as? String ?? ""))
            #expect(i["ssh_user"] as? String == "azureuser" && i["provider_type"] as? String == "Standard_D2s_v3")
        }
        #expect(try list(set, ["cloud-dispatch-instance-set": "someone-else"]).isEmpty)
        #expect(try AzurePeer.names("disks", prefix: Names.setPrefix(set.setID)).count == 6, "an OS and a scratch disk each")
        let reply = json(try set.destroy(body(["ids": ids(made) + ["cdd-never-existed-0"]])))
        #expect((reply["destroyed"] as? [String])?.count == 4 && (reply["failed"] as? [Any])?.isEmpty == true)
        #expect(try list(set, t).isEmpty)
        let left = try leftovers(set)
        #expect(left.isEmpty, "VM, NIC and disks all gone: \(left)")
        try noViolations()
    }

    @Test func aRepeatedTokenAddressesTheSameVMs() throws {
        try AzurePeer.clearFaults()
        let set = try AzurePeer.set("idem-\(run)")
        let t = tags("idem")
        let first = ids(try set.create(createRequest(tags: t, count: 2, token: "intent-1")))
        let again = ids(try set.create(createRequest(tags: t, count: 2, token: "intent-1")))
        #expect(first.sorted() == again.sorted() && first.count == 2)
        #expect(try AzurePeer.names("virtualMachines", prefix: Names.setPrefix(set.setID)).count == 2)

        // The PUT of the VM takes effect but its answer is lost (connection reset): the host
        // repeats the intent with the same token and gets that one VM, not a second.
        try AzurePeer.faults([["match": "PUT .*/virtualMachines/", "reset": true, "times": 1]])
        let lost = failure { try set.create(createRequest(tags: t, token: "intent-2")) }
        #expect(lost?.errorClass == .transient, "\(String(describing: lost))")
        let retried = ids(try set.create(createRequest(tags: t, token: "intent-2")))
        #expect(retried == [Names.vm(setID: set.setID, token: "intent-2", index: 0)])
        #expect(try AzurePeer.names("virtualMachines", prefix: Names.setPrefix(set.setID)).count == 3)
        _ = try set.destroy(body(["ids": first + retried]))
        #expect(try leftovers(set).isEmpty)
        try noViolations()
    }

    @Test func spotWithPublicIPAndEvictionNotice() throws {
        try AzurePeer.clearFaults()
        let set = try AzurePeer.set("spot-\(run)", extra: #", "use_public_ip": true"#)
        let t = tags("spot")
        let made = ids(try set.create(createRequest(tags: t, count: 2, preemptible: true)))
        let state = try AzurePeer.state()
        let vm = try #require((state["virtualMachines"]?[made[0].lowercased()] as? [String: Any])?["properties"] as? [String: Any])
        #expect(vm["priority"] as? String == "Spot" && vm["evictionPolicy"] as? String == "Delete")
        #expect((vm["billingProfile"] as? [String: Any])?["maxPrice"] as? Double == -1)
        let listed = try list(set, t)
        #expect(listed.allSatisfy { ($0["address"] as? String ?? "").hasPrefix("20.") && $0["preemptible"] as? Bool == true })
        let ipTags = try #require((state["publicIPAddresses"]?[Names.publicIP(made[0]).lowercased()] as? [String: Any])?["tags"] as? [String: String])
        #expect(ipTags[OwnTags.set] == set.setID && ipTags["cloud-dispatch-instance-set"] == t["cloud-dispatch-instance-set"])

        // Azure takes one back: the next poll names it, and only it (the host tag names this set).
        try AzurePeer.control("POST", "/_fake/evict", ["name": made[1]])
        let notices = json(try set.interruptions(Data("{}".utf8)))["notices"] as? [[String: Any]] ?? []
        #expect(notices.map { $0["id"] as? String } == [made[1]])
        _ = try set.destroy(body(["ids": made]))
        let left = try leftovers(set)
        #expect(left.isEmpty, "public IPs go with their NICs: \(left)")
        try noViolations()
    }

    @Test func errorClassesAndNothingLeftBehind() throws {
        try AzurePeer.clearFaults()
        let set = try AzurePeer.set("err-\(run)")
        let t = tags("err")
        let cases: [([String: Any], ErrorClass, Int)] = [
            (["status": 409, "code": "OperationNotAllowed",
              "message": "Operation could not be completed as it results in exceeding approved standardDSv3Family Cores quota."], .quota, 0),
            (["async_fail": "AllocationFailed"], .capacityType, 0),
            (["async_fail": "ZonalAllocationFailed"], .capacityType, 0),
            (["status": 409, "code": "SkuNotAvailable", "message": "not here"], .capacityType, 0),
            (["status": 429, "code": "TooManyRequests", "retry_after": "7"], .rateLimit, 7_000),
            (["status": 429, "code": "TooManyRequests", "retry_after": "date:+30"], .rateLimit, 30_000),
            (["status": 429, "code": "TooManyRequests"], .rateLimit, 10_000),
            (["status": 429, "code": "TooManyRequests", "retry_after": "later please"], .rateLimit, 10_000),
            (["status": 500, "code": "InternalServerError"], .transient, 0),
            (["status": 400, "code": "InvalidParameter", "message": "bad imageReference"], .invalid, 0),
            (["status": 403, "code": "AuthorizationFailed", "message": "no write"], .auth, 0),
        ]
        for (rule, expected, retry) in cases {
            var r = rule
            r["match"] = "PUT .*/virtualMachines/"
            r["times"] = 1
            try AzurePeer.faults([r])
            let e = try #require(failure { try set.create(createRequest(tags: t)) }, "\(rule)")
            #expect(e.errorClass == expected, "\(rule) gave \(e)")
            if expected == .rateLimit { #expect(abs(e.retryAfterMs - retry) <= 1_000, "\(rule): \(e.retryAfterMs)") }
            if let code = rule["code"] as? String ?? rule["async_fail"] as? String { #expect(e.code == code) }
            // A create that failed after its NIC was made removes the NIC (and a VM ARM made).
            let left = try leftovers(set)
        #expect(left.isEmpty, "\(rule) left \(left)")
        }
        try AzurePeer.clearFaults()
        let bad = try AzurePeer.set("err-\(run)", secret: "wrong")
        let auth = try #require(failure { try bad.list(body(["tags": t])) })
        #expect(auth.errorClass == .auth && auth.code == "invalid_client" && auth.message.contains("AADSTS7000215"))
        try noViolations()
    }

    @Test func leftoversOfAFailedCreateAreSweptAfterTheThreshold() throws {
        try AzurePeer.clearFaults()
        let offset = SharedOffset()
        let set = try AzurePeer.set("gc-\(run)", extra: #", "gc_after": 1200, "gc_interval": 0"#, clock: { offset.now })
        let t = tags("gc")
        // The VM PUT fails after the NIC was made, and the cleanup's NIC delete fails too.
        try AzurePeer.faults([["match": "PUT .*/virtualMachines/", "status": 500, "code": "InternalServerError", "times": 1],
                              ["match": "DELETE .*/networkInterfaces/", "status": 500, "code": "InternalServerError", "times": 1]])
        #expect(failure { try set.create(createRequest(tags: t)) }?.errorClass == .transient)
        let prefix = Names.setPrefix(set.setID)
        #expect(try AzurePeer.names("networkInterfaces", prefix: prefix).count == 1, "the NIC the cleanup could not delete")
        _ = try list(set, t)  // a sweep, but the NIC is younger than gc_after
        #expect(try AzurePeer.names("networkInterfaces", prefix: prefix).count == 1)
        offset.advance(1_201)
        _ = try list(set, t)
        let left = try leftovers(set)
        #expect(left.isEmpty, "swept once older than gc_after: \(left)")
        try noViolations()
    }

    @Test func pagingTagsCatalogueAndQuotaGroups() throws {
        try AzurePeer.clearFaults()
        try AzurePeer.control("POST", "/_fake/settings", ["page_size": 2])
        defer { _ = try? AzurePeer.control("POST", "/_fake/settings", ["page_size": 50]) }
        let set = try AzurePeer.set("page-\(run)")
        let t = tags("page")
        let made = ids(try set.create(createRequest(size: "Standard_B1s", tags: t, count: 5)))
        #expect(try list(set, t).count == 5, "every page read")

        _ = try set.setTags(body(["ids": [made[0]], "tags": ["idle": "hold"]]))
        _ = try set.setTags(body(["ids": [made[0]], "tags": ["note": "x"]]))
        let tagged = try #require(try list(set, t).first { $0["id"] as? String == made[0] }?["tags"] as? [String: String])
        #expect(tagged == t.merging(["idle": "hold", "note": "x"]) { $1 }, "merged, not replaced")
        #expect(failure { try set.setTags(body(["ids": ["cdd-no-such-vm"], "tags": ["a": "b"]])) }?.errorClass == .notFound)

        let types = json(try set.instanceTypes(Data("{}".utf8)))["instance_types"] as? [[String: Any]] ?? []
        let names = types.compactMap { $0["provider_type"] as? String }
        #expect(names.contains("Standard_D2s_v3") && !names.contains("Standard_F2s_v2"), "restricted sizes left out: \(names)")
        let nc = try #require(types.first { $0["provider_type"] as? String == "Standard_NC6s_v3" })
        #expect(nc["vcpus"] as? Int == 6 && (nc["gpu"] as? [String: Any])?["count"] as? Int == 1 && nc["ram"] as? Int == 112 << 30)
        func group(_ type: String, _ spot: Bool) throws -> String? {
            json(try set.quotaGroup(body(["provider_type": type, "preemptible": spot])))["group"] as? String
        }
        #expect(try group("Standard_D4s_v3", false) == "standardDSv3Family")
        #expect(try group("Standard_D4s_v3", true) == "lowPriorityCores")
        #expect(failure { try group("Standard_Nope", false) }?.message.contains("Standard_Nope") == true)
        _ = try set.destroy(body(["ids": made]))
        #expect(try leftovers(set).isEmpty)
        try noViolations()
    }

    @Test func certificateCredential() throws {
        try AzurePeer.clearFaults()
        let e = try AzurePeer.endpoints()
        let dir = (e.ca as NSString).deletingLastPathComponent
        func set(_ pem: String) throws -> AzureInstanceSet {
            try AzureInstanceSet.open(setID: "cert-\(run)", config: #"{"subscription_id": "\#(AzurePeer.subscription)", "resource_group": "\#(AzurePeer.group)", "location": "westeurope", "subnet_id": "\#(AzurePeer.subnet)", "tenant_id": "tenant-1", "client_id": "client-1", "client_certificate": "\#(dir)/\#(pem)", "authority_host": "\#(e.arm)", "arm_endpoint": "\#(e.arm)", "ca_bundle": "\#(e.ca)"}"#, environment: [:])
        }
        // The fake checks the assertion's signature with the registered certificate (python-cryptography).
        #expect(try list(set("client.pem"), tags("cert")).isEmpty)
        let refused = try #require(failure { try list(set("other.pem"), tags("cert")) })
        #expect(refused.errorClass == .auth && refused.code == "invalid_client" && refused.message.contains("AADSTS700027"), "\(refused)")
        #expect(failure { try set("missing.pem") }?.message.contains("client_certificate") == true)
    }

    @Test func managedIdentityExpiredTokensAndHangs() throws {
        try AzurePeer.clearFaults()
        let e = try AzurePeer.endpoints()
        let base = #"{"subscription_id": "\#(AzurePeer.subscription)", "resource_group": "\#(AzurePeer.group)", "location": "westeurope", "subnet_id": "\#(AzurePeer.subnet)", "arm_endpoint": "\#(e.arm)", "ca_bundle": "\#(e.ca)", "request_timeout": 2"#
        let viaIMDS = try AzureInstanceSet.open(setID: "mi-\(run)", config: base + #", "imds_endpoint": "\#(e.imds)"}"#, environment: [:])
        #expect(try list(viaIMDS, tags("mi")).isEmpty, "a managed identity token from IMDS works")
        let noIMDS = try AzureInstanceSet.open(setID: "mi-\(run)", config: base + #", "imds_endpoint": "http://127.0.0.1:9"}"#, environment: [:])
        #expect(failure { try list(noIMDS, tags("mi")) }?.errorClass == .transient, "an unreachable IMDS is transient")

        // ARM calls the token expired: one fresh token, and the call goes through.
        try AzurePeer.control("POST", "/_fake/expire_tokens")
        #expect(try list(viaIMDS, tags("mi")).isEmpty)

        // A hung ARM answers nothing: transient at request_timeout.
        try AzurePeer.faults([["match": "GET .*/virtualMachines$", "hang": true, "times": 1]])
        let start = ContinuousClock.now
        #expect(failure { try list(viaIMDS, tags("mi")) }?.errorClass == .transient)
        #expect(ContinuousClock.now - start < .seconds(60), "given up on at request_timeout (2 s), not hung")
        try AzurePeer.clearFaults()
        try noViolations()
    }
}

/// A clock a test moves forward.
final class SharedOffset: Sendable {
    private let seconds = SharedCountValue()
    var now: Int { Int(Date().timeIntervalSince1970) + seconds.value }
    func advance(_ by: Int) { seconds.add(by) }
}

final class SharedCountValue: Sendable {
    private let v = Synchronization.Mutex(0)
    var value: Int { v.withLock { $0 } }
    func add(_ n: Int) { v.withLock { $0 += n } }
}
