import DriverSupport
import Foundation
import GCECore
import Testing
import TestSupport

/// The driver against the fake Compute Engine, which checks every request and answer against
/// Google's discovery document (Tests/gce/fake_gce.py): one process, so serialized.
@Suite(.serialized) struct FakeScenarioTests {
    let fake: FakeGCE

    init() throws {
        fake = try FakeGCE.start()
        try fake.reset()
    }

    func noProblems() throws {
        let problems = try fake.stats()["problems"].array ?? []
        #expect(problems.isEmpty, "requests or answers that broke the discovery document: \(problems)")
    }

    func ids(_ reply: Data) -> [String] { (JSONValue.parse(Array(reply))?["instances"].array ?? []).compactMap { $0["id"].string } }
    func list(_ set: GCEInstanceSet, _ tags: String = #"{"cloud-dispatch-instance-set": "s1"}"#) throws -> [String] {
        ids(try set.list(Data(#"{"tags": \#(tags)}"#.utf8)))
    }

    @Test func manyInstancesAreOneBulkInsertAndEveryPageIsListed() throws {
        let set = try fake.open(#", "page_size": 2"#)
        let made = ids(try set.create(createRequest(count: 7)))
        #expect(made.count == 7)
        #expect(try fake.calls("compute.instances.bulkInsert") == 1)
        #expect(try fake.calls("compute.instances.insert") == 0)
        let before = try fake.calls("compute.instances.aggregatedList")
        #expect(try list(set).sorted() == made.sorted())
        #expect(try fake.calls("compute.instances.aggregatedList") - before == 4)  // 7 instances, 2 a page
        try noProblems()
    }

    /// The number docs/drivers/gce.md quotes: API calls to create 1,000 VMs in an empty project.
    @Test func aThousandVMsTakeFiveCalls() throws {
        let set = try fake.open()
        let made = ids(try set.create(createRequest(count: 1000)))
        #expect(made.count == 1000 && Set(made).count == 1000)
        let calls = try fake.stats()["calls"].object?.mapValues { $0.int ?? 0 } ?? [:]
        #expect(calls == ["compute.instances.aggregatedList": 3, "compute.instances.bulkInsert": 1, "compute.zoneOperations.wait": 1], "\(calls)")
        #expect(try fake.stats()["tokens"].int == 1)
        print("1,000 VMs: \(calls.values.reduce(0, +)) API calls (\(calls.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))) and 1 token")
        try noProblems()
    }

    @Test func aLostAnswerRetriedWithTheSameTokenMakesNoSecondInstance() throws {
        let set = try fake.open()
        for count in [1, 3] {
            try fake.faults(#"{"reset_after_accept": 1}"#)
            #expect { try set.create(createRequest(count: count, token: "lost-\(count)")) } throws: { ($0 as? DriverError)?.errorClass == .transient }
            let again = ids(try set.create(createRequest(count: count, token: "lost-\(count)")))
            #expect(again.count == count)
        }
        #expect(try fake.stats()["instances"].array?.count == 4)
        // and a third try, answered normally, changes nothing either
        _ = try set.create(createRequest(count: 3, token: "lost-3"))
        #expect(try fake.stats()["instances"].array?.count == 4)
        try noProblems()
    }

    @Test func aSpentTokenCreatesNothing() async throws {
        let set = try fake.open()
        for count in [1, 2] {
            let made = ids(try set.create(createRequest(count: count, token: "spent-\(count)")))
            _ = try set.destroy(Data(#"{"ids": [\#(made.map { "\"\($0)\"" }.joined(separator: ","))]}"#.utf8))
            #expect(try await FakeScenarioTests.eventually { try list(set).isEmpty })
            // this process remembers the token; another (a fresh set) meets GCE's requestId memory
            for attempt in [set, try fake.open()] {
                #expect { try attempt.create(createRequest(count: count, token: "spent-\(count)")) } throws: {
                    ($0 as? DriverError)?.errorClass == .invalid && "\($0)".contains("idempotency_token")
                }
            }
        }
        #expect(try fake.stats()["instances"].array?.isEmpty == true)
        try noProblems()
    }

    @Test func anExhaustedZoneFailsOverInsideTheCall() throws {
        let set = try fake.open()
        try fake.faults(#"{"exhausted_zones": ["us-central1-a"]}"#)
        let made = ids(try set.create(createRequest(count: 2)))
        #expect(made.count == 2 && made.allSatisfy { $0.hasPrefix("us-central1-b/") })
        try fake.faults(#"{"exhausted_zones": ["us-central1-a", "us-central1-b"]}"#)
        #expect { try set.create(createRequest(count: 1, token: "none")) } throws: {
            ($0 as? DriverError)?.errorClass == .capacityType && ($0 as? DriverError)?.code == "ZONE_RESOURCE_POOL_EXHAUSTED"
        }
        try noProblems()
    }

    @Test func eachErrorClassFromTheFake() throws {
        let set = try fake.open()
        try fake.faults(#"{"quota": 1}"#)
        #expect { try set.create(createRequest(count: 1, token: "q")) } throws: {
            ($0 as? DriverError)?.errorClass == .quota && "\($0)".contains("CPUS")
        }
        try fake.faults(#"{"rate_limit": 1, "retry_after": 3}"#)
        #expect { try set.list(Data(#"{"tags": {}}"#.utf8)) } throws: { ($0 as? DriverError)?.errorClass == .rateLimit && ($0 as? DriverError)?.retryAfterMs == 3000 }
        try fake.faults(#"{"server_error": 1}"#)
        #expect { try set.list(Data(#"{"tags": {}}"#.utf8)) } throws: { ($0 as? DriverError)?.errorClass == .transient }
        let impatient = try fake.open(#", "request_timeout": 1"#)
        try fake.faults(#"{"hang": 1, "hang_seconds": 3}"#)
        #expect { try impatient.list(Data(#"{"tags": {}}"#.utf8)) } throws: { ($0 as? DriverError)?.errorClass == .transient }
        #expect { try set.create(createRequest(count: 1, token: "bad-type").replacing(Data("e2-micro".utf8), with: Data("e9-nothing".utf8))) } throws: {
            ($0 as? DriverError)?.errorClass == .invalid
        }
        try noProblems()
    }

    @Test func setTagsSurvivesAStaleFingerprintAndKeepsOtherLabels() throws {
        let set = try fake.open()
        let id = ids(try set.create(createRequest(count: 1)))[0]
        try fake.faults(#"{"stale_fingerprint": 1}"#)
        _ = try set.setTags(Data(#"{"ids": ["\#(id)"], "tags": {"State": "Busy.1", "long": "\#(String(repeating: "v", count: 80))"}}"#.utf8))
        let reply = JSONValue.parse(Array(try set.list(Data(#"{"tags": {"State": "Busy.1"}}"#.utf8))))!
        let tags = reply["instances"].array?.first?["tags"]
        #expect(tags?["State"].string == "Busy.1")
        #expect(tags?["long"].string == String(repeating: "v", count: 80))  // too long for a label: in metadata
        #expect(tags?["changed-by-someone"].string == "else")  // the concurrent writer's label stays
        #expect(tags?["cloud-dispatch-instance-set"].string == "s1")
        try noProblems()
    }

    @Test func destroyedInstancesLeaveTheListAndAGoneOneIsDestroyed() async throws {
        let set = try fake.open()
        let made = ids(try set.create(createRequest(count: 2)))
        let reply = JSONValue.parse(Array(try set.destroy(Data(#"{"ids": ["\#(made[0])", "\#(made[1])", "us-central1-a/never-was"]}"#.utf8))))!
        #expect(reply["destroyed"].array?.count == 3 && reply["failed"].array?.isEmpty == true)
        #expect(try await FakeScenarioTests.eventually { try list(set).isEmpty })
        try noProblems()
    }

    @Test func tokensAreCachedAndFetchedAgainWhenRevoked() throws {
        let set = try fake.open()
        _ = try list(set)
        _ = try list(set)
        #expect(try fake.stats()["tokens"].int == 1)
        try fake.faults(#"{"revoke_tokens": true}"#)
        _ = try list(set)  // 401, a new token, the same call again
        #expect(try fake.stats()["tokens"].int == 1)
        try noProblems()
    }

    @Test func aKeyTheTokenEndpointDoesNotKnowIsAuth() throws {
        let key = FileManager.default.temporaryDirectory.appendingPathComponent("cdd-gce-stranger-\(getpid()).json").path
        defer { try? FileManager.default.removeItem(atPath: key) }
        let keygen = try ChildProcess("/usr/bin/env", ["python3", FakeGCE.repo.appendingPathComponent("Tests/gce/keys.py").path, key, "http://127.0.0.1:1/token"])
        keygen.waitUntilExit()
        let set = try GCEInstanceSet.open(setID: "s1", config: fake.config().replacingOccurrences(of: fake.keyFile, with: key), environment: [:])
        #expect { try set.list(Data(#"{"tags": {}}"#.utf8)) } throws: {
            ($0 as? DriverError)?.errorClass == .auth && "\($0)".contains("Invalid JWT") && ($0 as? DriverError)?.httpStatus == 400
        }
        try noProblems()
    }

    @Test func theMetadataServerGivesTokensToo() throws {
        let host = fake.url.replacingOccurrences(of: "http://", with: "")
        let set = try GCEInstanceSet.open(setID: "s1", config: #"{"project": "p1", "zones": ["us-central1-a"], "api_root": "\#(fake.url)/compute/v1/", "metadata_host": "\#(host)"}"#,
                                          environment: [:])
        #expect(try list(set).isEmpty)
        try noProblems()
    }

    @Test func theCatalogueAndQuotaGroups() throws {
        let set = try fake.open(#", "prices": {"e2-micro": 0.0084}, "spot_prices": {"e2-micro": 0.0025}"#)
        let types = JSONValue.parse(Array(try set.instanceTypes(Data("{}".utf8))))!["instance_types"].array ?? []
        let micro = types.first { $0["provider_type"].string == "e2-micro" }
        #expect(micro?["vcpus"].int == 2 && micro?["ram"].int == 1 << 30 && micro?["price"] == .number(0.0084))
        #expect(types.first { $0["provider_type"].string == "a2-highgpu-1g" }?["gpu"]["count"].int == 1)
        #expect(JSONValue.parse(Array(try set.quotaGroup(Data(#"{"provider_type": "n2-standard-4", "preemptible": false}"#.utf8))))!["group"].string == "n2")
        #expect { try set.quotaGroup(Data(#"{"provider_type": "cdd-conformance-no-such-type", "preemptible": false}"#.utf8)) } throws: {
            ($0 as? DriverError)?.errorClass == .invalid
        }
        try noProblems()
    }

    /// Polls `condition` (a listing) until it holds, at most 30 s; waits without holding a thread.
    static func eventually(_ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try condition()
    }
}
