import DriverSupport
import EC2Core
import Foundation
import Testing

@Suite struct FailoverAndSpotTests {
    func createBody(preemptible: Bool = false, type: String = "m5.large") -> Data {
        try! JSONSerialization.data(withJSONObject: [
            "instance_type": ["name": "t", "provider_type": type, "vcpus": 2, "ram": 8 << 30, "preemptible": preemptible, "price": 0.04],
            "tags": ["cloud-dispatch-instance-set": "set-1"], "count": 1,
        ] as [String: Any])
    }

    @Test func failoverReportsTheMostMeaningfulErrorNotTheLast() throws {
        let fake = FakeEC2 { p, _ in
            switch p["SubnetId"] {
            case "subnet-a": FakeEC2.error(500, "InsufficientInstanceCapacity", "no m5.large in us-east-1a")
            case "subnet-b": FakeEC2.error(400, "InsufficientFreeAddressesInSubnet")
            default: FakeEC2.error(400, "InvalidSubnetID.NotFound", "The subnet ID 'subnet-c' does not exist")
            }
        }
        let error = failure { try TestSets.set(fake, #", "subnet_ids": ["subnet-a", "subnet-b", "subnet-c"]"#).create(createBody()) }
        #expect(error?.errorClass == .capacityType && error?.code == "InsufficientInstanceCapacity", "\(String(describing: error))")
        #expect(fake.calls("RunInstances").count == 3)
    }

    @Test func failoverRanking() {
        let invalid = DriverError(.invalid, "bad subnet"), quota = DriverError(.quota, "no addresses")
        let capacity = DriverError(.capacityType, "full"), unsupported = DriverError(.unsupported, "not here")
        #expect(FailoverRanking.mostMeaningful([invalid, quota]) == quota)
        #expect(FailoverRanking.mostMeaningful([quota, capacity, invalid]) == capacity)
        #expect(FailoverRanking.mostMeaningful([invalid, unsupported]) == unsupported)
        #expect(FailoverRanking.mostMeaningful([DriverError(.capacityType, "first"), capacity])?.message == "first", "ties: the first subnet")
        #expect(FailoverRanking.mostMeaningful([]) == nil)
    }

    @Test func spotHasNoMaxPriceUnlessConfigured() throws {
        let launched = Fixtures.run([Fixtures.instance("i-0123456789abcdef0", state: "pending")])
        let fake = FakeEC2 { _, _ in FakeEC2.ok(launched) }
        _ = try TestSets.set(fake).create(createBody(preemptible: true))
        let run = try #require(fake.calls("RunInstances").first)
        #expect(run["InstanceMarketOptions.MarketType"] == "spot")
        #expect(run["InstanceMarketOptions.SpotOptions.MaxPrice"] == nil, "AWS's default: up to the on-demand price")

        let capped = FakeEC2 { _, _ in FakeEC2.ok(launched) }
        _ = try TestSets.set(capped, #", "spot_max_price": 0.25"#).create(createBody(preemptible: true))
        #expect(capped.calls("RunInstances").first?["InstanceMarketOptions.SpotOptions.MaxPrice"] == "0.25")

        let byType = FakeEC2 { _, _ in FakeEC2.ok(launched) }
        let set = TestSets.set(byType, #", "spot_max_price": {"p5.48xlarge": 40}"#)
        _ = try set.create(createBody(preemptible: true, type: "p5.48xlarge"))
        _ = try set.create(createBody(preemptible: true))
        #expect(byType.calls("RunInstances").map { $0["InstanceMarketOptions.SpotOptions.MaxPrice"] } == ["40", nil])

        for bad in ["0", "-1", #""0.1""#, #"{"m5.large": "x"}"#] {
            #expect(throws: DriverError.self) { try EC2Config.parse(#"{"region": "us-east-1", "spot_max_price": \#(bad)}"#, environment: [:]) }
        }
    }
}
