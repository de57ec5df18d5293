import DriverSupport
import EC2Core
import Foundation
import PluginABI
import Testing

@Suite struct ParsingAndErrorTests {
    @Test func describeInstancesPageParses() throws {
        let xml = Fixtures.describe([[Fixtures.instance("i-0123456789abcdef0", token: "t1", spot: true)],
                                     [Fixtures.instance("i-0123456789abcdef1", state: "shutting-down")]], next: "r-next")
        let root = try XMLNode.parse(Data(xml.utf8))
        let all = EC2Instance.all(in: root)
        #expect(all.map(\.id) == ["i-0123456789abcdef0", "i-0123456789abcdef1"])
        #expect(root.text("nextToken") == "r-next")
        let first = all[0]
        #expect(first.state == "running" && first.type == "m5.large" && first.spot && first.clientToken == "t1")
        #expect(first.privateIP == "172.31.0.4" && first.zone == "us-east-1a" && first.tags == ["pool": "p1"])
        #expect(!all[1].isLive)
        let reply = first.reply(sshUser: "admin", usePublicIP: false)
        #expect(reply.address == "172.31.0.4" && reply.createdAt == "2026-11-29T10:00:00.000Z" && reply.preemptible)
        #expect(first.reply(sshUser: "admin", usePublicIP: true).address == "54.214.146.209")
    }

    @Test func errorEnvelopesKeepCodeAndMessage() {
        let ec2 = EC2Client.error(from: FakeEC2.error(400, "InvalidAMIID.NotFound", "The image id '[ami-1]' does not exist"), throttleRetryMs: 2000, now: 0)
        #expect(ec2 == DriverError(.invalid, "The image id '[ami-1]' does not exist", code: "InvalidAMIID.NotFound", httpStatus: 400))
        let auth = EC2Client.error(from: HTTPResponse(status: 401, body: Array(Fixtures.authFailure.utf8)), throttleRetryMs: 0, now: 0)
        #expect(auth.errorClass == .auth && auth.code == "AuthFailure" && auth.message.hasPrefix("AWS was not able"))
        let html = EC2Client.error(from: HTTPResponse(status: 500, body: Array("<!doctype html>\n<title>500</title>".utf8)), throttleRetryMs: 0, now: 0)
        #expect(html.errorClass == .transient && html.code == "" && html.message == "<!doctype html>")
    }

    @Test func throttlingCarriesARetryHint() {
        let given = EC2Client.error(from: FakeEC2.error(503, "RequestLimitExceeded", "Request limit exceeded.", headers: ["retry-after": "3"]), throttleRetryMs: 2000, now: 0)
        #expect(given.errorClass == .rateLimit && given.retryAfterMs == 3000 && given.httpStatus == 503)
        let none = EC2Client.error(from: FakeEC2.error(503, "RequestLimitExceeded"), throttleRetryMs: 2000, now: 0)
        #expect(none.retryAfterMs == 2000)
        let bare = EC2Client.error(from: HTTPResponse(status: 503, body: []), throttleRetryMs: 1500, now: 0)
        #expect(bare.errorClass == .rateLimit && bare.retryAfterMs == 1500)
    }

    /// The mapping the issue asks for, as a table.
    @Test(arguments: [
        ("InsufficientInstanceCapacity", 500, ErrorClass.capacityType),
        ("VcpuLimitExceeded", 400, .capacityFamily),
        ("InstanceLimitExceeded", 400, .quota),
        ("MaxSpotInstanceCountExceeded", 400, .quota),
        ("InsufficientAddressCapacity", 500, .quota),
        ("InsufficientFreeAddressesInSubnet", 400, .quota),
        ("RequestLimitExceeded", 503, .rateLimit),
        ("Throttling", 400, .rateLimit),
        ("AuthFailure", 401, .auth),
        ("UnauthorizedOperation", 403, .auth),
        ("SignatureDoesNotMatch", 403, .auth),
        ("InvalidClientTokenId", 403, .auth),
        ("RequestExpired", 400, .transient),
        ("InvalidIdentityToken", 400, .auth),
        ("InvalidAMIID.NotFound", 400, .invalid),
        ("InvalidAMIID.Malformed", 400, .invalid),
        ("InvalidParameterValue", 400, .invalid),
        ("InvalidKeyPair.NotFound", 400, .invalid),
        ("InvalidInstanceID.NotFound", 400, .notFound),
        ("Unsupported", 400, .unsupported),
        ("InternalError", 500, .transient),
        ("SomethingNew", 502, .transient),
        ("SomethingNew", 400, .invalid),
        ("", 503, .rateLimit),
    ])
    func errorCodesMapToClasses(code: String, status: Int, expected: ErrorClass) {
        #expect(ErrorMapping.classify(code: code, httpStatus: status) == expected)
    }

    @Test func classNumbersAreTheHeaderConstants() {
        let header: [ErrorClass: Int32] = [.invalid: CDD_E_INVALID, .auth: CDD_E_AUTH, .notFound: CDD_E_NOT_FOUND, .quota: CDD_E_QUOTA,
                                           .capacityType: CDD_E_CAPACITY_TYPE, .capacityFamily: CDD_E_CAPACITY_FAMILY,
                                           .capacityGlobal: CDD_E_CAPACITY_GLOBAL, .rateLimit: CDD_E_RATE_LIMIT,
                                           .transient: CDD_E_TRANSIENT, .unsupported: CDD_E_UNSUPPORTED, .internal: CDD_E_INTERNAL]
        for c in ErrorClass.allCases { #expect(c.rawValue == header[c], "\(c)") }
    }

    @Test func subnetSpecificErrors() {
        for code in ["InsufficientInstanceCapacity", "InvalidSubnetID.NotFound", "InsufficientFreeAddressesInSubnet", "Unsupported"] {
            #expect(ErrorMapping.isSubnetSpecific(code), "\(code)")
        }
        for code in ["VcpuLimitExceeded", "InstanceLimitExceeded", "AuthFailure", "InvalidAMIID.NotFound"] {
            #expect(!ErrorMapping.isSubnetSpecific(code), "\(code)")
        }
    }

    @Test func catalogueParsesTypesGPUsAndSpotPrices() throws {
        let fake = FakeEC2 { p, _ in
            p["Action"] == "DescribeInstanceTypes" ? FakeEC2.ok(Fixtures.instanceTypes) : FakeEC2.ok(Fixtures.spotPrices)
        }
        let set = TestSets.set(fake, #", "prices": {"m5.large": 0.096}"#)
        let types = try #require(json(try set.instanceTypes(Data("{}".utf8)))["instance_types"] as? [[String: Any]])
        #expect(types.count == 2)
        let g4 = try #require(types.first { $0["provider_type"] as? String == "g4dn.xlarge" })
        #expect(g4["vcpus"] as? Int == 4 && g4["ram"] as? Int == 16 << 30 && g4["scratch"] as? Int == 125_000_000_000)
        #expect((g4["gpu"] as? [String: Any])?["count"] as? Int == 1 && (g4["gpu"] as? [String: Any])?["stack"] as? String == "cuda")
        let m5 = try #require(types.first { $0["provider_type"] as? String == "m5.large" })
        #expect(m5["price"] as? Double == 0.096 && m5["spot_price"] as? Double == 0.041, "highest Linux price over zones")
        _ = try set.instanceTypes(Data("{}".utf8))
        #expect(fake.calls("DescribeInstanceTypes").count == 1, "cached")
    }

    @Test func quotaGroupsPerFamilyAndSpotApart() {
        #expect(QuotaGroups.group(for: "m5.large", preemptible: false) == "standard")
        #expect(QuotaGroups.group(for: "t3.micro", preemptible: true) == "standard-spot")
        #expect(QuotaGroups.group(for: "p4d.24xlarge", preemptible: false) == "p")
        #expect(QuotaGroups.group(for: "g5.xlarge", preemptible: false) == "g")
        #expect(QuotaGroups.group(for: "vt1.3xlarge", preemptible: false) == "g")
        #expect(QuotaGroups.group(for: "inf2.xlarge", preemptible: false) == "inf")
        #expect(QuotaGroups.group(for: "x2idn.large", preemptible: false) == "x")
        #expect(QuotaGroups.group(for: "f1.2xlarge", preemptible: true) == "f-spot")
        #expect(QuotaGroups.group(for: "p5.48xlarge", preemptible: false, overrides: ["p": "gpu", "p5": "p5"]) == "p5")
    }
}
