import DriverSupport
import EC2Core
import Foundation
import Testing

@Suite struct RequestShapeTests {
    func createBody(count: Int = 1, preemptible: Bool = false, price: Double = 0.1, addedScratch: Int64 = 0,
                    token: String? = nil, key: String? = nil, firstSend: Bool? = nil) -> Data {
        var object: [String: Any] = [
            "instance_type": ["name": "t", "provider_type": "m5.large", "vcpus": 2, "ram": 8 << 30, "preemptible": preemptible,
                              "price": price, "added_scratch": addedScratch],
            "tags": ["cloud-dispatch-instance-set": "set-1", "pool": "p 1"], "count": count,
            "init_script": "#!/bin/sh\necho hi\n",
        ]
        if let token { object["idempotency_token"] = token }
        if let key { object["ssh_public_key"] = key }
        if let firstSend { object["first_send"] = firstSend }
        return try! JSONSerialization.data(withJSONObject: object)
    }

    static let launched = Fixtures.run([Fixtures.instance("i-0123456789abcdef0", state: "pending"),
                                        Fixtures.instance("i-0123456789abcdef1", state: "pending")])

    /// A cloud with no instances yet that launches `launched` and imports any key.
    static func launchingFake() -> FakeEC2 {
        FakeEC2 { p, _ in
            switch p["Action"] {
            case "DescribeInstances": FakeEC2.ok(Fixtures.describe([]))
            case "ImportKeyPair": FakeEC2.ok(Fixtures.importKeyPair)
            default: FakeEC2.ok(Self.launched)
            }
        }
    }

    /// libcurl sends a request again by itself when a reused connection closes before any
    /// answer; a launch goes on a new connection, so it never is (moto ignores ClientToken:
    /// `lostCreateAnswersAndUnbootableWorkersNeitherGrowNorRelaunchTheFleet` launched 16, not 8).
    @Test func onlyALaunchGoesOnAFreshConnection() throws {
        let fake = Self.launchingFake()
        _ = try TestSets.set(fake).create(createBody(token: "c-1", key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample me@host"))
        let fresh = fake.requests.map { (FakeEC2.form($0.body)["Action"] ?? "", $0.freshConnection) }
        #expect(fresh.map(\.0) == ["DescribeInstances", "ImportKeyPair", "RunInstances"], "\(fresh)")
        #expect(fresh.map(\.1) == [false, false, true], "\(fresh)")
    }

    @Test func countTokenTagsUserDataAndKeyPair() throws {
        let fake = Self.launchingFake()
        let set = TestSets.set(fake, #", "security_group_ids": ["sg-1", "sg-2"], "iam_instance_profile": "worker""#)
        let reply = try set.create(createBody(count: 2, token: "c-7f3a", key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample me@host"))
        #expect(ids(reply) == ["i-0123456789abcdef0", "i-0123456789abcdef1"])
        let instance = try #require((json(reply)["instances"] as? [[String: Any]])?.first)
        #expect(instance["tags"] as? [String: String] == ["cloud-dispatch-instance-set": "set-1", "pool": "p 1"], "exactly the request's tags")
        #expect(instance["state"] as? String == "pending" && instance["ssh_user"] as? String == "admin")

        let run = try #require(fake.calls("RunInstances").first)
        #expect(run["MinCount"] == "2" && run["MaxCount"] == "2", "all or nothing by default")
        #expect(run["ClientToken"] == RunInstancesBuilder.clientToken(setID: "set-1", token: "c-7f3a", subnet: nil))
        #expect(run["ClientToken"]!.count <= 64)
        #expect(run["ImageId"] == "ami-12345678" && run["InstanceType"] == "m5.large")
        #expect(run["UserData"].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } == "#!/bin/sh\necho hi\n")
        #expect(run["SecurityGroupId.1"] == "sg-1" && run["SecurityGroupId.2"] == "sg-2")
        #expect(run["IamInstanceProfile.Name"] == "worker" && run["InstanceInitiatedShutdownBehavior"] == "terminate")
        #expect(run["MetadataOptions.HttpTokens"] == "required")
        for n in [1, 2] {
            #expect(run["TagSpecification.\(n).ResourceType"] == (n == 1 ? "instance" : "volume"))
            #expect(run["TagSpecification.\(n).Tag.1.Key"] == "cloud-dispatch-instance-set")
            #expect(run["TagSpecification.\(n).Tag.2.Key"] == "pool" && run["TagSpecification.\(n).Tag.2.Value"] == "p 1")
        }
        #expect(run["InstanceMarketOptions.MarketType"] == nil && run["BlockDeviceMapping.1.DeviceName"] == nil)
        let key = try #require(fake.calls("ImportKeyPair").first)
        #expect(run["KeyName"] == key["KeyName"] && key["KeyName"]!.hasPrefix("cloud-dispatch-set-1-"))
        #expect(key["TagSpecification.1.ResourceType"] == "key-pair" && key["TagSpecification.1.Tag.1.Value"] == "set-1")

        // The key is imported once per set.
        _ = try set.create(createBody(key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample me@host"))
        #expect(fake.calls("ImportKeyPair").count == 1)
    }

    @Test func spotAndScratchVolume() throws {
        let fake = FakeEC2 { _, _ in FakeEC2.ok(Self.launched) }
        let set = TestSets.set(fake, #", "ebs_volume_type": "gp2", "iam_instance_profile": "arn:aws:iam::1:instance-profile/w""#)
        _ = try set.create(createBody(preemptible: true, price: 0.0412, addedScratch: (50 << 30) + 1))
        let run = try #require(fake.calls("RunInstances").first)
        #expect(run["InstanceMarketOptions.MarketType"] == "spot")
        #expect(run["InstanceMarketOptions.SpotOptions.MaxPrice"] == nil, "no cap unless spot_max_price says so")
        #expect(run["InstanceMarketOptions.SpotOptions.SpotInstanceType"] == "one-time")
        #expect(run["InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior"] == "terminate")
        #expect(run["BlockDeviceMapping.1.DeviceName"] == "/dev/xvdt" && run["BlockDeviceMapping.1.Ebs.VolumeSize"] == "51")
        #expect(run["BlockDeviceMapping.1.Ebs.VolumeType"] == "gp2" && run["BlockDeviceMapping.1.Ebs.DeleteOnTermination"] == "true")
        #expect(run["IamInstanceProfile.Arn"] == "arn:aws:iam::1:instance-profile/w")
        #expect(run["ClientToken"] == nil, "no token, no ClientToken")
        #expect(run["MinCount"] == "1" && run["MaxCount"] == "1")

        let partial = FakeEC2 { _, _ in FakeEC2.ok(Self.launched) }
        _ = try TestSets.set(partial, #", "partial_launch": true"#).create(createBody(count: 5))
        #expect(partial.calls("RunInstances").first?["MinCount"] == "1" && partial.calls("RunInstances").first?["MaxCount"] == "5")
    }

    @Test func subnetFailoverOnSubnetErrorsOnly() throws {
        let fake = FakeEC2 { p, _ in
            p["SubnetId"] == "subnet-a" ? FakeEC2.error(500, "InsufficientInstanceCapacity", "no m5.large in us-east-1a") : FakeEC2.ok(Self.launched)
        }
        let set = TestSets.set(fake, #", "subnet_ids": ["subnet-a", "subnet-b"]"#)
        _ = try set.create(createBody(token: "t1"))
        #expect(fake.calls("RunInstances").map { $0["SubnetId"] } == ["subnet-a", "subnet-b"])
        let tokens = fake.calls("RunInstances").map { $0["ClientToken"] }
        #expect(tokens[0] != tokens[1], "a token per subnet: EC2 refuses one token with other parameters")
        // The subnet that worked is tried first next time.
        _ = try set.create(createBody())
        #expect(fake.calls("RunInstances").last?["SubnetId"] == "subnet-b")

        let quota = FakeEC2 { _, _ in FakeEC2.error(400, "VcpuLimitExceeded", "You have requested more vCPU capacity") }
        let limited = TestSets.set(quota, #", "subnet_ids": ["subnet-a", "subnet-b"]"#)
        #expect(throws: DriverError(.capacityFamily, "You have requested more vCPU capacity", code: "VcpuLimitExceeded", httpStatus: 400)) {
            try limited.create(createBody())
        }
        #expect(quota.calls("RunInstances").count == 1, "an account limit is not the subnet's fault")

        let allFull = FakeEC2 { _, _ in FakeEC2.error(500, "InsufficientInstanceCapacity") }
        #expect(throws: DriverError.self) { try TestSets.set(allFull, #", "subnet_ids": ["a", "b", "c"]"#).create(createBody()) }
        #expect(allFull.calls("RunInstances").count == 3)
    }

    @Test func repeatedTokenReturnsTheFirstLaunch() throws {
        let token = RunInstancesBuilder.clientToken(setID: "set-1", token: "c-1", subnet: nil)
        let fake = FakeEC2 { p, _ in
            FakeEC2.ok(Fixtures.describe([[Fixtures.instance("i-0123456789abcdef0", token: token,
                                                               tags: ["cloud-dispatch-instance-set": "set-1", "pool": "p 1"]),
                                           Fixtures.instance("i-0123456789abcdef1", token: "other",
                                                             tags: ["cloud-dispatch-instance-set": "set-1", "pool": "p 1"])]]))
        }
        let reply = try TestSets.set(fake).create(createBody(token: "c-1"))
        #expect(ids(reply) == ["i-0123456789abcdef0"])
        #expect(fake.calls("RunInstances").isEmpty)
        let describe = try #require(fake.calls("DescribeInstances").first)
        #expect(describe["Filter.1.Name"] == "tag:cloud-dispatch-instance-set" && describe["Filter.1.Value.1"] == "set-1")
    }

    @Test func aFirstSendLaunchesWithoutLookingForEarlierInstances() throws {
        let fake = FakeEC2 { p, _ in p["Action"] == "DescribeInstances" ? FakeEC2.ok(Fixtures.describe([])) : FakeEC2.ok(Self.launched) }
        let set = TestSets.set(fake)
        _ = try set.create(createBody(token: "c-1", firstSend: true))
        #expect(fake.calls("DescribeInstances").isEmpty, "no earlier instance can carry a token never sent")
        #expect(fake.calls("RunInstances").first?["ClientToken"] != nil, "EC2's own idempotency still applies")
        // Sent again (first_send left out, or false), the token is looked up before anything is launched.
        _ = try set.create(createBody(token: "c-1", firstSend: false))
        _ = try set.create(createBody(token: "c-1"))
        #expect(fake.calls("DescribeInstances").count == 2)
    }

    @Test func malformedRequestsAreInvalid() {
        let set = TestSets.set(FakeEC2 { _, _ in FakeEC2.ok("<x/>") })
        for body in ["not json", "{}", #"{"instance_type": 7, "tags": {}, "count": 1}"#] {
            #expect(failure { try set.create(Data(body.utf8)) }?.errorClass == .invalid, "\(body)")
        }
        #expect(failure { try set.create(createBody(count: 101)) }?.errorClass == .invalid)
        #expect(failure { try set.list(Data(#"{"tags": "x"}"#.utf8)) }?.errorClass == .invalid)
        #expect(failure { try set.list(Data("[]".utf8)) }?.errorClass == .invalid)
        #expect(failure { try set.destroy(Data("{}".utf8)) }?.errorClass == .invalid)
        #expect(failure { try set.destroy(Data(#"{"ids": "x"}"#.utf8)) }?.errorClass == .invalid)
        #expect(failure { try set.setTags(Data("{}".utf8)) }?.errorClass == .invalid)
        #expect(failure { try set.quotaGroup(Data("{}".utf8)) }?.errorClass == .invalid)
    }
}
