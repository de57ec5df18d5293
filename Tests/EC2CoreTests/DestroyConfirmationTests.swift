import DriverSupport
import EC2Core
import Foundation
import Testing

/// `InvalidInstanceID.NotFound` from TerminateInstances is not proof: EC2 says it for an
/// instance launched a moment ago. Destroy asks DescribeInstances before forgetting an id.
@Suite struct DestroyConfirmationTests {
    static let a = "i-0000000000000000a", b = "i-0000000000000000b"

    /// A fake EC2 whose TerminateInstances calls `b` unknown the first `notFoundTimes` times,
    /// and whose DescribeInstances shows `b` in `state` (nil: does not know it).
    static func ec2(notFoundTimes: Int, state: String?) -> FakeEC2 {
        let left = SharedCount(notFoundTimes)
        return FakeEC2 { p, _ in
            switch p["Action"] {
            case "DescribeInstances":
                // Asked about both (are they this set's?), then about b (is it gone?).
                #expect(p["Filter.1.Name"] == "instance-id" && (1...2).contains { p["Filter.1.Value.\($0)"] == b })
                return FakeEC2.ok(Fixtures.describe(state.map { [[Fixtures.instance(b, state: $0)]] } ?? []))
            default:
                let asked = (1...10).compactMap { p["InstanceId.\($0)"] }
                let refuse = asked.contains(b) && left.add(-1) > 0
                return refuse ? FakeEC2.error(400, "InvalidInstanceID.NotFound", "The instance ID '\(b)' does not exist")
                              : FakeEC2.ok(Fixtures.terminate)
            }
        }
    }

    static func asked(_ call: [String: String]) -> [String] { (1...10).compactMap { call["InstanceId.\($0)"] } }

    func destroy(_ fake: FakeEC2) throws -> (destroyed: Set<String>, failed: [[String: Any]]) {
        let reply = json(try TestSets.set(fake).destroy(Data(#"{"ids": ["\#(Self.a)", "\#(Self.b)"]}"#.utf8)))
        return (Set(reply["destroyed"] as? [String] ?? []), reply["failed"] as? [[String: Any]] ?? [])
    }

    @Test func notFoundButListedRunningIsSentAgain() throws {
        let fake = Self.ec2(notFoundTimes: 1, state: "running")
        let result = try destroy(fake)
        #expect(result.destroyed == [Self.a, Self.b] && result.failed.isEmpty)
        #expect(fake.calls("TerminateInstances").map(Self.asked) == [[Self.a, Self.b], [Self.a, Self.b]], "refused, then b sent again with the rest")
        #expect(fake.calls("DescribeInstances").count == 2, "one to see the ids are this set's, one to confirm")
    }

    @Test func notFoundAndStillListedRunningIsATransientFailureForThatId() throws {
        let fake = Self.ec2(notFoundTimes: 100, state: "pending")
        let result = try destroy(fake)
        #expect(result.destroyed == [Self.a], "a running VM is never reported destroyed")
        let failed = try #require(result.failed.first)
        #expect(result.failed.count == 1 && failed["id"] as? String == Self.b && failed["class"] as? String == "transient")
        #expect(fake.calls("TerminateInstances").map(Self.asked) == [[Self.a, Self.b], [Self.a, Self.b], [Self.a]], "b sent once more, then reported")
    }

    @Test(arguments: [nil, "terminated", "shutting-down"])
    func notFoundAndUnknownOrEndingIsDestroyed(state: String?) throws {
        let fake = Self.ec2(notFoundTimes: 100, state: state)
        let result = try destroy(fake)
        #expect(result.destroyed == [Self.a, Self.b] && result.failed.isEmpty)
        #expect(fake.calls("DescribeInstances").count == 2, "one to see the ids are this set's, one to confirm")
    }
}
