import DriverSupport
import EC2Core
import Foundation
import Testing

/// The driver against a real moto server (an independent EC2 implementation): signing checked
/// by moto, paging, tag filters, spot and count > 1, idempotency, and — through the fault
/// proxy — the errors moto cannot produce. Serialized: signature checking is moto-wide.
@Suite(.serialized) struct MotoScenarioTests {
    /// A run id, so tests never see each other's instances in a shared moto.
    let run = "r" + String(UInt32.random(in: 0...UInt32.max), radix: 36)

    func body(_ object: [String: Any]) -> Data { try! JSONSerialization.data(withJSONObject: object) }

    func create(_ set: EC2InstanceSet, tags: [String: String], count: Int = 1, preemptible: Bool = false,
                addedScratch: Int64 = 0, token: String? = nil) throws -> [[String: Any]] {
        var request: [String: Any] = [
            "instance_type": ["name": "t", "provider_type": "t3.micro", "vcpus": 2, "ram": 1 << 30, "preemptible": preemptible,
                              "price": preemptible ? 0.05 : 0.0104, "added_scratch": addedScratch],
            "tags": tags, "count": count, "init_script": "#!/bin/sh\necho 'hello: world' > /tmp/x\n",
        ]
        if let token { request["idempotency_token"] = token }
        return json(try set.create(body(request)))["instances"] as? [[String: Any]] ?? []
    }

    func list(_ set: EC2InstanceSet, _ tags: [String: String]) throws -> [String] {
        ids(try set.list(body(["tags": tags]))).sorted()
    }

    func destroyAll(_ set: EC2InstanceSet, _ tags: [String: String]) throws {
        let mine = try list(set, tags)
        if !mine.isEmpty { _ = try set.destroy(body(["ids": mine])) }
    }

    @Test func wrongSecretIsAuthWithSignatureCheckingOn() throws {
        let moto = try MotoPeer.endpoint()
        // The next 3 requests are not checked: they make an IAM user with an ec2:* policy and a key.
        try MotoPeer.control("POST", moto + "/moto-api/reset-auth", body: "3")
        defer { _ = try? MotoPeer.control("POST", moto + "/moto-api/reset-auth", body: "inf") }
        let (iamSet, _) = try MotoPeer.set("iam", endpoint: moto)
        let iam = EC2Client(config: iamSet.config, credentials: iamSet.client.credentials, transport: CurlTransport(connectTimeoutMs: 5000, caBundle: nil),
                            service: "iam")
        let user = "cdd-\(run)"
        var p = QueryParams(action: "CreateUser", version: "2010-05-08")
        p.set("UserName", user)
        _ = try iam.call(p)
        p = QueryParams(action: "PutUserPolicy", version: "2010-05-08")
        p.set("UserName", user)
        p.set("PolicyName", "ec2-all")
        p.set("PolicyDocument", #"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}"#)
        _ = try iam.call(p)
        p = QueryParams(action: "CreateAccessKey", version: "2010-05-08")
        p.set("UserName", user)
        let key = try iam.call(p)
        let id = try #require(key.descendants("AccessKeyId").first?.value)
        let secret = try #require(key.descendants("SecretAccessKey").first?.value)

        // Signed right (a body with ':' and spaces in it): moto accepts; signed wrong: auth.
        let tags = ["cloud-dispatch-instance-set": "auth-\(run)", "note": "a b:c"]
        let (good, _) = try MotoPeer.set("auth-\(run)", endpoint: moto, secret: secret, accessKey: id)
        let made = try create(good, tags: tags, count: 2)
        #expect(made.count == 2)
        #expect(try list(good, tags).count == 2)

        let (bad, _) = try MotoPeer.set("auth-\(run)", endpoint: moto, secret: secret + "x", accessKey: id)
        let error = try #require(failure { try bad.list(body(["tags": tags])) })
        #expect(error.errorClass == .auth && error.httpStatus == 401 && error.code == "AuthFailure", "\(error)")
        #expect(failure { try bad.create(body(["instance_type": ["name": "t", "provider_type": "t3.micro", "vcpus": 2, "ram": 1,
                                                                 "preemptible": false, "price": 0], "tags": tags, "count": 1])) }?.errorClass == .auth)
        try destroyAll(good, tags)
    }

    @Test func listingSpansSeveralPages() throws {
        let (set, counter) = try MotoPeer.set("pages-\(run)", endpoint: try MotoPeer.endpoint(), extra: #", "page_size": 5"#)
        let tags = ["cloud-dispatch-instance-set": "pages-\(run)"]
        for _ in 0..<7 { _ = try create(set, tags: tags) }  // 7 reservations: moto pages by reservation
        let before = counter.count("DescribeInstances")
        #expect(try list(set, tags).count == 7)
        #expect(counter.count("DescribeInstances") - before == 2, "7 reservations at 5 a page")
        try destroyAll(set, tags)
        #expect(try list(set, tags).isEmpty)
    }

    @Test func tagFiltersKeepOtherInstanceSetsOut() throws {
        let moto = try MotoPeer.endpoint()
        let (a, _) = try MotoPeer.set("a-\(run)", endpoint: moto)
        let (b, _) = try MotoPeer.set("b-\(run)", endpoint: moto)
        let tagsA = ["cloud-dispatch-instance-set": "a-\(run)", "pool": "p1"]
        let tagsB = ["cloud-dispatch-instance-set": "a-\(run)0", "pool": "p1"]  // a prefix apart
        let madeA = try create(a, tags: tagsA, count: 2).compactMap { $0["id"] as? String }.sorted()
        let madeB = try create(b, tags: tagsB).compactMap { $0["id"] as? String }
        #expect(try list(a, tagsA) == madeA)
        #expect(try list(b, tagsB) == madeB)
        #expect(try list(a, ["cloud-dispatch-instance-set": "a-\(run)", "pool": "p2"]).isEmpty)
        #expect(try list(a, ["cloud-dispatch-instance-set": "a-\(run)*"]).isEmpty, "EC2 wildcards are not the ABI's exact match")
        // set_tags merges, and the merged tag filters.
        _ = try a.setTags(body(["ids": [madeA[0]], "tags": ["state": "idle"]]))
        #expect(try list(a, tagsA.merging(["state": "idle"]) { $1 }) == [madeA[0]])
        try destroyAll(a, tagsA)
        try destroyAll(b, tagsB)
    }

    @Test func spotAndCountAboveOneWithTaggedVolumes() throws {
        let moto = try MotoPeer.endpoint()
        let (set, _) = try MotoPeer.set("spot-\(run)", endpoint: moto)
        let tags = ["cloud-dispatch-instance-set": "spot-\(run)"]
        let made = try create(set, tags: tags, count: 3, preemptible: true, addedScratch: 10 << 30)
        #expect(made.count == 3 && made.allSatisfy { $0["preemptible"] as? Bool == true && $0["tags"] as? [String: String] == tags })
        let listed = json(try set.list(body(["tags": tags])))["instances"] as? [[String: Any]] ?? []
        #expect(listed.count == 3 && listed.allSatisfy { $0["preemptible"] as? Bool == true })
        // The scratch volumes carry the tags too (TagSpecification for volumes).
        var p = QueryParams(action: "DescribeVolumes")
        p.filters([("tag:cloud-dispatch-instance-set", ["spot-\(run)"])])
        #expect(try set.client.call(p).path("volumeSet", "item").filter { $0.text("size") == "10" }.count == 3)
        try destroyAll(set, tags)
    }

    @Test func repeatedIdempotencyTokenCreatesNothingNew() throws {
        let (set, counter) = try MotoPeer.set("idem-\(run)", endpoint: try MotoPeer.endpoint())
        let tags = ["cloud-dispatch-instance-set": "idem-\(run)"]
        let once = try create(set, tags: tags, count: 2, token: "tok-\(run)").compactMap { $0["id"] as? String }
        let again = try create(set, tags: tags, count: 2, token: "tok-\(run)").compactMap { $0["id"] as? String }
        #expect(once == again && counter.count("RunInstances") == 1)
        #expect(try list(set, tags).count == 2)
        try destroyAll(set, tags)
    }

    @Test func faultProxyErrorsAreClassified() throws {
        let moto = try MotoPeer.endpoint()
        let proxy = try MotoPeer.proxy()
        try MotoPeer.control("DELETE", proxy + "/fault-proxy/faults")
        func fault(_ rule: String) throws { try MotoPeer.control("POST", proxy + "/fault-proxy/faults", body: rule, contentType: "application/json") }

        // Two real subnets of moto's default VPC; the first has no capacity once.
        let (probe, _) = try MotoPeer.set("probe", endpoint: moto)
        let subnets = try probe.client.call(QueryParams(action: "DescribeSubnets")).path("subnetSet", "item").compactMap { $0.text("subnetId") }
        #expect(subnets.count >= 2)
        let tags = ["cloud-dispatch-instance-set": "faults-\(run)"]
        let (set, counter) = try MotoPeer.set("faults-\(run)", endpoint: proxy,
                                             extra: #", "subnet_ids": ["\#(subnets[0])", "\#(subnets[1])"], "request_timeout": 1"#)
        try fault(#"{"action": "RunInstances", "code": "InsufficientInstanceCapacity", "match": {"SubnetId": "\#(subnets[0])"}}"#)
        let made = try create(set, tags: tags)
        #expect((made.first?["extra"] as? [String: String])?["subnet"] == subnets[1], "failed over to the second subnet")

        let cases: [(String, ErrorClass, Int)] = [
            ("VcpuLimitExceeded", .capacityFamily, 400), ("InstanceLimitExceeded", .quota, 400),
            ("MaxSpotInstanceCountExceeded", .quota, 400), ("InternalError", .transient, 500),
            ("UnauthorizedOperation", .auth, 403),
        ]
        for (code, expected, status) in cases {
            let runs = counter.count("RunInstances")
            try fault(#"{"action": "RunInstances", "code": "\#(code)"}"#)
            let error = try #require(failure { try create(set, tags: tags) })
            #expect(error.errorClass == expected && error.code == code && error.httpStatus == status && !error.message.isEmpty, "\(error)")
            #expect(counter.count("RunInstances") - runs == 1, "\(code) is not a subnet's problem: no failover")
        }
        // No capacity in either subnet: capacity for the type, after trying both.
        try fault(#"{"action": "RunInstances", "code": "InsufficientInstanceCapacity", "times": 2}"#)
        #expect(failure { try create(set, tags: tags) }?.errorClass == .capacityType)

        // Throttling: 503 with EC2's code; the retry hint from Retry-After, else the configured default.
        try fault(#"{"action": "DescribeInstances", "code": "RequestLimitExceeded", "retry_after": 3}"#)
        let throttled = try #require(failure { try set.list(body(["tags": tags])) })
        #expect(throttled.errorClass == .rateLimit && throttled.httpStatus == 503 && throttled.retryAfterMs == 3000)
        try fault(#"{"action": "DescribeInstances", "code": "RequestLimitExceeded"}"#)
        #expect(failure { try set.list(body(["tags": tags])) }?.retryAfterMs == 2000)

        // A slow answer past request_timeout: transient.
        try fault(#"{"action": "DescribeInstances", "delay": 2.5}"#)
        let slow = try #require(failure { try set.list(body(["tags": tags])) })
        #expect(slow.errorClass == .transient && slow.code == "RequestTimeout", "\(slow)")

        try MotoPeer.control("DELETE", proxy + "/fault-proxy/faults")
        try destroyAll(set, tags)
        #expect(try list(set, tags).isEmpty)
    }

    /// Round trips through the driver (libcurl keep-alive, SigV4, XML) to moto, printed for
    /// the record: moto's own speed dominates (see testpeers.md §1.5).
    @Test func roundTripTimes() throws {
        let (set, _) = try MotoPeer.set("timing-\(run)", endpoint: try MotoPeer.endpoint())
        let tags = ["cloud-dispatch-instance-set": "timing-\(run)"]
        func median(_ n: Int, _ body: () throws -> Void) rethrows -> Double {
            var samples: [Double] = []
            for _ in 0..<n {
                let start = ContinuousClock.now
                try body()
                let d = ContinuousClock.now - start
                samples.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
            }
            return samples.sorted()[n / 2]
        }
        var made: [String] = []
        let createMs = try median(20) { made += try self.create(set, tags: tags).compactMap { $0["id"] as? String } }
        let listMs = try median(20) { let n = try self.list(set, tags).count; #expect(n == 20) }
        let tagMs = try median(20) { _ = try set.setTags(body(["ids": [made[0]], "tags": ["state": "idle"]])) }
        let destroyMs = try median(1) { _ = try set.destroy(body(["ids": made])) }
        print(String(format: "moto round trips (median ms): create 1 = %.1f, list 20 = %.1f, set_tags = %.1f, destroy 20 = %.1f",
                     createMs, listMs, tagMs, destroyMs))
        #expect(try self.list(set, tags).isEmpty)
    }
}
