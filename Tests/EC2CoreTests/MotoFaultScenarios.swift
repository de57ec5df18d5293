import DriverSupport
import EC2Core
import Foundation
import Testing

/// The fixes of issue 12 end to end: the driver against moto through the fault proxy
/// (Tests/ec2/fault_proxy.py), for the faults moto cannot produce by itself. Part of
/// `MotoScenarioTests` (serialized, run by `make ec2-test`).
extension MotoScenarioTests {
    func faultProxy() throws -> (url: String, fault: (String) throws -> Void) {
        let proxy = try MotoPeer.proxy()
        try MotoPeer.control("DELETE", proxy + "/fault-proxy/faults")
        return (proxy, { rule in try MotoPeer.control("POST", proxy + "/fault-proxy/faults", body: rule, contentType: "application/json") })
    }

    /// EC2 answers TerminateInstances with NotFound for an instance launched a moment ago: the
    /// driver asks DescribeInstances, sees it running, and terminates it for real.
    @Test func terminateNotFoundIsConfirmedBeforeTheInstanceIsForgotten() throws {
        let (proxy, fault) = try faultProxy()
        let tags = ["cloud-dispatch-instance-set": "nf-\(run)"]
        let (set, counter) = try MotoPeer.set("nf-\(run)", endpoint: proxy)
        let first = try #require(try create(set, tags: tags).first?["id"] as? String)
        try fault(#"{"action": "TerminateInstances", "code": "InvalidInstanceID.NotFound", "times": 1}"#)
        let reply = json(try set.destroy(body(["ids": [first]])))
        #expect(reply["destroyed"] as? [String] == [first] && (reply["failed"] as? [Any])?.isEmpty == true)
        #expect(counter.count("TerminateInstances") == 2, "refused once, sent again after DescribeInstances showed it running")
        #expect(try list(set, tags).isEmpty, "moto terminated it: nothing left running")

        // EC2 keeps saying NotFound while listing it running: a transient failure for that id, not "destroyed".
        let second = try #require(try create(set, tags: tags).first?["id"] as? String)
        try fault(#"{"action": "TerminateInstances", "code": "InvalidInstanceID.NotFound", "times": 2}"#)
        let stuck = try #require((json(try set.destroy(body(["ids": [second]])))["failed"] as? [[String: Any]])?.first)
        #expect(stuck["id"] as? String == second && stuck["class"] as? String == "transient")
        #expect(try list(set, tags) == [second], "still running, and still known to the host")
        try MotoPeer.control("DELETE", proxy + "/fault-proxy/faults")
        try destroyAll(set, tags)
        #expect(try list(set, tags).isEmpty)
    }

    /// The connection is reset after moto launched: the call fails transient, and the host's
    /// retry with the same idempotency token gets that instance instead of a second one.
    @Test func launchAnsweredByAResetIsFoundAgainByItsToken() throws {
        let (proxy, fault) = try faultProxy()
        let tags = ["cloud-dispatch-instance-set": "reset-\(run)"]
        let (set, counter) = try MotoPeer.set("reset-\(run)", endpoint: proxy)
        try fault(#"{"action": "RunInstances", "reset": true}"#)
        let lost = try #require(failure { try create(set, tags: tags, token: "tok-\(run)") })
        #expect(lost.errorClass == .transient, "\(lost)")
        let again = try create(set, tags: tags, token: "tok-\(run)").compactMap { $0["id"] as? String }
        #expect(again.count == 1 && counter.count("RunInstances") == 1, "nothing launched twice")
        #expect(try list(set, tags) == again)
        try destroyAll(set, tags)
    }

    /// An endpoint that accepts and never answers: `transient` once `request_timeout` passes.
    @Test func hungEndpointIsTransientAtTheRequestTimeout() throws {
        let (proxy, fault) = try faultProxy()
        let (set, _) = try MotoPeer.set("hang-\(run)", endpoint: proxy, extra: #", "request_timeout": 1"#)
        try fault(#"{"action": "DescribeInstances", "hang": true}"#)
        let hung = try #require(failure { try set.list(body(["tags": ["cloud-dispatch-instance-set": "hang-\(run)"]])) })
        #expect(hung.errorClass == .transient && hung.code == "RequestTimeout", "\(hung)")
        try MotoPeer.control("DELETE", proxy + "/fault-proxy/faults")  // lets the hung request go
        #expect(try list(set, ["cloud-dispatch-instance-set": "hang-\(run)"]).isEmpty)
    }

    /// One subnet out of capacity, the other misconfigured: the host hears about the capacity.
    @Test func subnetFailoverReportsCapacityOverABadSubnet() throws {
        let (proxy, fault) = try faultProxy()
        let (probe, _) = try MotoPeer.set("probe", endpoint: try MotoPeer.endpoint())
        let subnets = try probe.client.call(QueryParams(action: "DescribeSubnets")).path("subnetSet", "item").compactMap { $0.text("subnetId") }
        try #require(subnets.count >= 2)
        let tags = ["cloud-dispatch-instance-set": "rank-\(run)"]
        let (set, counter) = try MotoPeer.set("rank-\(run)", endpoint: proxy,
                                             extra: #", "subnet_ids": ["\#(subnets[0])", "\#(subnets[1])"]"#)
        try fault(#"{"action": "RunInstances", "code": "InsufficientInstanceCapacity", "match": {"SubnetId": "\#(subnets[0])"}}"#)
        try fault(#"{"action": "RunInstances", "code": "InvalidSubnetID.NotFound", "match": {"SubnetId": "\#(subnets[1])"}}"#)
        let error = try #require(failure { try create(set, tags: tags) })
        #expect(error.errorClass == .capacityType && error.code == "InsufficientInstanceCapacity", "\(error)")
        #expect(counter.count("RunInstances") == 2)
        #expect(try list(set, tags).isEmpty)
    }
}

extension MotoScenarioTests {
    /// A server clock an hour ahead answers RequestExpired with its Date: the driver signs again
    /// with that time and the call goes through; still refused after that, it is `transient`.
    @Test func requestExpiredIsCorrectedFromTheServersDate() throws {
        let (proxy, fault) = try faultProxy()
        let tags = ["cloud-dispatch-instance-set": "skew-\(run)"]
        let (set, counter) = try MotoPeer.set("skew-\(run)", endpoint: proxy)
        try fault(#"{"action": "DescribeInstances", "code": "RequestExpired", "date_offset": 3600}"#)
        #expect(try list(set, tags).isEmpty)
        #expect(counter.count("DescribeInstances") == 2, "refused once, then signed with the server's time")

        let (other, _) = try MotoPeer.set("skew-\(run)", endpoint: proxy)
        try fault(#"{"action": "DescribeInstances", "code": "RequestExpired", "date_offset": 3600}"#)
        try fault(#"{"action": "DescribeInstances", "code": "RequestExpired", "date_offset": 7200}"#)
        let error = try #require(failure { try other.list(body(["tags": tags])) })
        #expect(error.errorClass == .transient && error.code == "RequestExpired", "\(error)")
        try MotoPeer.control("DELETE", proxy + "/fault-proxy/faults")
    }

    /// Throttling with `Retry-After` as an HTTP date, through libcurl's header parsing.
    @Test func retryAfterAsAnHTTPDate() throws {
        let (proxy, fault) = try faultProxy()
        let (set, _) = try MotoPeer.set("ra-\(run)", endpoint: proxy)
        try fault(#"{"action": "DescribeInstances", "code": "RequestLimitExceeded", "retry_after_date": 5, "date_offset": 600}"#)
        let throttled = try #require(failure { try set.list(body(["tags": ["cloud-dispatch-instance-set": "ra-\(run)"]])) })
        #expect(throttled.errorClass == .rateLimit && throttled.retryAfterMs == 5000, "counted from the answer's Date: \(throttled)")
    }
}
