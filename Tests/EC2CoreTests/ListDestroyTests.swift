import DriverSupport
import EC2Core
import Foundation
import Testing

@Suite struct ListDestroyTests {
    let tags = ["cloud-dispatch-instance-set": "set-1"]

    @Test func listFollowsPagesFiltersAndDropsGoneInstances() throws {
        let fake = FakeEC2 { p, _ in
            switch p["NextToken"] {
            case nil: FakeEC2.ok(Fixtures.describe([[Fixtures.instance("i-0000000000000000a", tags: tags)]], next: "r-2"))
            case "r-2": FakeEC2.ok(Fixtures.describe([[Fixtures.instance("i-0000000000000000b", state: "terminated", tags: tags),
                                                       Fixtures.instance("i-0000000000000000c", state: "stopping", tags: tags),
                                                       // EC2's filters treat * as a wildcard: the exact match is repeated here.
                                                       Fixtures.instance("i-0000000000000000d", tags: ["cloud-dispatch-instance-set": "set-10"])]]))
            default: FakeEC2.error(400, "InvalidParameterValue")
            }
        }
        let reply = try TestSets.set(fake, #", "page_size": 5"#).list(Data(#"{"tags": {"cloud-dispatch-instance-set": "set-1"}}"#.utf8))
        #expect(ids(reply) == ["i-0000000000000000a", "i-0000000000000000c"])
        let first = try #require(fake.calls.first)
        #expect(first["MaxResults"] == "5" && first["Filter.1.Name"] == "tag:cloud-dispatch-instance-set")
        #expect(first["Filter.2.Name"] == "instance-state-name" && first["Filter.2.Value.4"] == "stopped")
        #expect(fake.calls.count == 2)
    }

    @Test func paginationIsBounded() {
        let endless = FakeEC2 { p, _ in FakeEC2.ok(Fixtures.describe([], next: "t-\(Int(p["NextToken"]?.dropFirst(2) ?? "0")! + 1)")) }
        let error = failure { try TestSets.set(endless, #", "max_pages": 3"#).list(Data(#"{"tags": {}}"#.utf8)) }
        #expect(error?.errorClass == .transient && endless.calls.count == 3)

        let looping = FakeEC2 { _, _ in FakeEC2.ok(Fixtures.describe([], next: "same")) }
        #expect(failure { try TestSets.set(looping).list(Data(#"{"tags": {}}"#.utf8)) }?.errorClass == .internal)
        #expect(looping.calls.count == 2, "a repeated NextToken stops at once")
    }

    @Test func destroyTreatsMissingIdsAsDestroyedAndRetriesTheRest() throws {
        let fake = FakeEC2 { p, _ in
            let asked = (1...10).compactMap { p["InstanceId.\($0)"] }
            if asked.contains("i-0000000000000000b") {
                return FakeEC2.error(400, "InvalidInstanceID.NotFound", "The instance ID 'i-0000000000000000b' does not exist")
            }
            return FakeEC2.ok(Fixtures.terminate)
        }
        let reply = json(try TestSets.set(fake).destroy(Data(#"{"ids": ["i-0000000000000000a", "i-0000000000000000b", "not-an-id"]}"#.utf8)))
        #expect(Set(reply["destroyed"] as? [String] ?? []) == ["i-0000000000000000a", "i-0000000000000000b", "not-an-id"])
        #expect((reply["failed"] as? [Any])?.isEmpty == true)
        #expect(fake.calls("TerminateInstances").map { $0["InstanceId.2"] } == ["i-0000000000000000b", nil])
        #expect(fake.calls("DescribeInstances").count == 2, "the ids are this set's; EC2's NotFound is confirmed before b counts as destroyed")
    }

    @Test func destroyBatchesAndReportsPerIdFailures() throws {
        let fake = FakeEC2 { p, _ in
            p["InstanceId.1"] == "i-0000000000000000c" ? FakeEC2.error(503, "RequestLimitExceeded", "Request limit exceeded.") : FakeEC2.ok(Fixtures.terminate)
        }
        let body = Data(#"{"ids": ["i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c"]}"#.utf8)
        let reply = json(try TestSets.set(fake, #", "destroy_batch": 2"#).destroy(body))
        #expect(reply["destroyed"] as? [String] == ["i-0000000000000000a", "i-0000000000000000b"])
        let failed = try #require((reply["failed"] as? [[String: Any]])?.first)
        #expect(failed["id"] as? String == "i-0000000000000000c" && failed["class"] as? String == "rate_limit")

        let down = FakeEC2 { _, _ in FakeEC2.error(401, "AuthFailure", "AWS was not able to validate the provided access credentials") }
        #expect(failure { try TestSets.set(down).destroy(body) }?.errorClass == .auth, "a batch that fails whole fails the call")
    }

    @Test func setTagsMergesThroughCreateTags() throws {
        let fake = FakeEC2 { _, _ in FakeEC2.ok(Fixtures.createTags) }
        let set = TestSets.set(fake)
        _ = try set.setTags(Data(#"{"ids": ["i-0000000000000000a"], "tags": {"state": "idle", "a b": "c"}}"#.utf8))
        let call = try #require(fake.calls("CreateTags").first)
        #expect(call["ResourceId.1"] == "i-0000000000000000a" && call["Tag.1.Key"] == "a b" && call["Tag.2.Value"] == "idle")
        #expect(failure { try set.setTags(Data(#"{"ids": ["cdd-conformance-missing-0"], "tags": {"x": "y"}}"#.utf8)) }?.errorClass == .notFound)
        let missing = FakeEC2 { _, _ in FakeEC2.error(400, "InvalidInstanceID.NotFound", "The instance ID 'i-0000000000000000f' does not exist") }
        #expect(failure { try TestSets.set(missing).setTags(Data(#"{"ids": ["i-0000000000000000f"], "tags": {"x": "y"}}"#.utf8)) }?.errorClass == .notFound)
    }

    @Test func requestsAreSignedForTheEndpoint() throws {
        let fake = FakeEC2 { _, _ in FakeEC2.ok(Fixtures.describe([])) }
        _ = try TestSets.set(fake).list(Data(#"{"tags": {}}"#.utf8))
        let request = try #require(fake.requests.first)
        let headers = Dictionary(request.headers.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { $1 })
        #expect(request.url == "http://127.0.0.1:9" && headers["host"] == "127.0.0.1:9")
        #expect(headers["authorization"]?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ec2/aws4_request") == true)
        #expect(headers["x-amz-date"] == "20150830T123600Z")
        #expect(!(headers.values.contains { $0.contains("s3cr3t") }), "the secret never travels")
    }
}
