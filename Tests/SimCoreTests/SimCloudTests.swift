import Foundation
import SimCore
import Testing

@Suite struct SimCloudTests {
    func cloud(_ config: String) throws -> SimCloud {
        SimCloud(setID: "t", config: try SimConfig.parse(Data(config.utf8)))
    }

    func create(_ cloud: SimCloud, type: String = "sim.small", count: Int = 1, token: String? = nil, spot: Bool = false) throws -> [String] {
        let tokenPart = token.map { #", "idempotency_token": "\#($0)""# } ?? ""
        let reply = try cloud.create(Data(#"{"instance_type": {"provider_type": "\#(type)", "preemptible": \#(spot)}, "tags": {"a": "1"}, "count": \#(count)\#(tokenPart)}"#.utf8))
        let object = try JSONSerialization.jsonObject(with: reply) as! [String: Any]
        return (object["instances"] as! [[String: Any]]).map { $0["id"] as! String }
    }

    @Test func quotaCapacityAndThrottlingAreClassified() throws {
        let quota = try cloud(#"{"max_instances": 3}"#)
        #expect(try create(quota, count: 2).count == 2)
        #expect(try create(quota, count: 2).count == 1, "partial, as EC2 with MinCount 1")
        #expect(throws: SimError.quota("instance quota 3 reached (3 running)")) { try create(quota) }

        let noCapacity = try cloud(#"{"capacity_error_rate": {"sim.large": 1}}"#)
        #expect(throws: SimError.capacity("no capacity for sim.large")) { try create(noCapacity, type: "sim.large") }
        #expect(try create(noCapacity).count == 1)

        let throttled = try cloud(#"{"rate_limit_rate": 1, "retry_after_ms": 250}"#)
        #expect(throws: SimError.rateLimit("simulated throttling", retryAfterMs: 250)) { try create(throttled) }
    }

    @Test func spotInstancesAreReclaimedAndOnDemandOnesAreNot() throws {
        func listed(_ c: SimCloud) throws -> Set<String> {
            let object = try JSONSerialization.jsonObject(with: try c.list(Data(#"{"tags": {}}"#.utf8))) as! [String: Any]
            return Set((object["instances"] as! [[String: Any]]).map { $0["id"] as! String })
        }
        let c = try cloud(#"{"spot_reclaim_rate": 0.3}"#)
        let spot = try create(c, count: 10, spot: true)
        let onDemand = try create(c, count: 10)
        var remaining = Set(spot)
        for _ in 0..<30 { remaining = try listed(c).intersection(spot) }
        #expect(remaining.isEmpty, "after 30 listings at 0.3 each, \(remaining.count) spot instances survive")
        #expect(try listed(c) == Set(onDemand))
        #expect(c.reclaimedCount == 10)
        #expect(throws: SimError.self) { try cloud(#"{"spot_reclaim_rate": 1.5}"#) }
    }

    @Test func theSameSeedGivesTheSameFaults() throws {
        func outcomes(_ seed: Int) throws -> [Bool] {
            let c = try cloud(#"{"seed": \#(seed), "create_failure_rate": 0.5}"#)
            return (0..<40).map { _ in (try? create(c)) != nil }
        }
        #expect(try outcomes(7) == outcomes(7))
        #expect(try outcomes(7) != outcomes(8))
        #expect(try outcomes(7).contains(true) && outcomes(7).contains(false))
    }

    @Test func idempotencyTokensReturnTheFirstInstances() throws {
        let c = try cloud("{}")
        let first = try create(c, count: 2, token: "t1")
        #expect(try create(c, count: 2, token: "t1") == first)
        #expect(try create(c, count: 2, token: "t2") != first)
    }

    /// docs/driver-abi.md §7a: a token whose instances are all destroyed creates nothing.
    @Test func aSpentTokenCreatesNothing() throws {
        let c = try cloud("{}")
        let first = try create(c, count: 2, token: "t1")
        _ = try c.destroy(Data(#"{"ids": ["\#(first[0])", "\#(first[1])"]}"#.utf8))
        #expect(throws: SimError.invalid("idempotency_token: t1 was used by a create whose instances are all destroyed; a token is never used twice")) {
            try create(c, count: 2, token: "t1")
        }
    }

    /// Strings over the ABI's limits are refused, named, and not echoed back.
    @Test(arguments: [
        (#"{"tags": {"k": "\#(String(repeating: "v", count: 10 << 20))"}}"#, "tags value: 10485760 characters, must be 0 to 256"),
        (#"{"tags": {"\#(String(repeating: "k", count: 129))": "v"}}"#, "tags key: 129 characters, must be 1 to 128"),
    ])
    func overLongTagsAreInvalid(request: String, message: String) throws {
        let c = try cloud("{}")
        #expect(throws: SimError.invalid(message)) { try c.list(Data(request.utf8)) }
    }

    @Test func countAboveMaxCreateCountIsInvalid() throws {
        #expect(throws: SimError.invalid("count: a whole number from 1 to 1000 (max_create_count)")) { try create(try cloud("{}"), count: 1001) }
    }

    @Test(arguments: [
        (#"{"colour": 1}"#, "config: unknown key \"colour\""),
        (#"{"seed": "x"}"#, "config: seed:"),
        (#"{"create_failure_rate": 2}"#, "config: failure rates are probabilities from 0 to 1"),
        (#"{"instance_types": []}"#, "config.instance_types: each needs provider_type"),
        (#"{"instance_types": [{"provider_type": "a", "vcpus": 1, "ram": 1, "spot_prise": 0.1}]}"#,
         "config.instance_types[0]: unknown key \"spot_prise\""),
        ("[]", "config must be a JSON object"),
    ])
    func badConfigsNameTheProblem(config: String, message: String) {
        #expect { _ = try SimConfig.parse(Data(config.utf8)) } throws: { error in
            guard case .invalid(let text)? = error as? SimError else { return false }
            return text.hasPrefix(message)
        }
    }

    @Test func requestsOfTheWrongTypeAreInvalid() throws {
        let c = try cloud("{}")
        #expect { _ = try c.create(Data(#"{"instance_type": {"provider_type": "sim.small"}, "tags": {}, "count": true}"#.utf8)) } throws: { error in
            guard case .invalid(let text)? = error as? SimError else { return false }
            return text.hasPrefix("request: count:")
        }
    }
}
