import DriverSupport
import EC2Core
import Foundation
import Testing

@Suite struct CatalogueRequestTests {
    @Test func instanceTypeNamesAreAskedInChunksOf100() throws {
        let fake = FakeEC2 { p, _ in
            p["Action"] == "DescribeInstanceTypes" ? FakeEC2.ok(Fixtures.instanceTypes) : FakeEC2.ok(Fixtures.spotPrices)
        }
        let names = (0..<250).map { "\"m5.size\($0)\"" }.joined(separator: ", ")
        _ = try TestSets.set(fake, #", "spot_prices": false, "instance_types": [\#(names)]"#).instanceTypes(Data("{}".utf8))
        let calls = fake.calls("DescribeInstanceTypes")
        #expect(calls.map { c in c.keys.filter { $0.hasPrefix("InstanceType.") }.count } == [100, 100, 50])
        #expect(calls.map { $0["InstanceType.1"] } == ["m5.size0", "m5.size100", "m5.size200"])
        #expect(calls.allSatisfy { $0["MaxResults"] == nil }, "EC2 refuses MaxResults with named types")
    }

    @Test func spotPricesAskForLinuxOnly() throws {
        let fake = FakeEC2 { p, _ in
            p["Action"] == "DescribeInstanceTypes" ? FakeEC2.ok(Fixtures.instanceTypes) : FakeEC2.ok(Fixtures.spotPrices)
        }
        _ = try TestSets.set(fake).instanceTypes(Data("{}".utf8))
        let spot = try #require(fake.calls("DescribeSpotPriceHistory").first)
        #expect(spot["ProductDescription.1"] == "Linux/UNIX")
    }
}
