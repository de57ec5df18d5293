import DriverSupport
import Foundation
import GCECore
import Testing

/// A zone out of capacity fails over to the next zone inside one create; the error finally
/// returned is the most informative.
@Suite struct FailoverTests {
    static func cloud(exhausted: Set<String>, unknownTypeIn: Set<String> = []) -> Recorder.Answer {
        { r in
            if r.url.contains("/aggregated/instances") { return json(200, #"{"items": {}}"#) }
            let zone = r.url.components(separatedBy: "/zones/")[1].components(separatedBy: "/")[0]
            if r.method == "POST", unknownTypeIn.contains(zone) {
                return json(400, ErrorClassTests.httpError(400, "invalid", "Invalid value for field 'resource.machineType': Machine type e2-micro does not exist in zone \(zone)."))
            }
            if r.method == "POST" { return json(200, operation(zone: zone, error: exhausted.contains(zone) ? "ZONE_RESOURCE_POOL_EXHAUSTED" : nil)) }
            let name = r.url.components(separatedBy: "/").last!
            return json(200, instanceJSON(zone: zone, name: name))
        }
    }

    @Test func exhaustedZoneFailsOverToTheNext() throws {
        let (set, rec) = try makeSet(Self.cloud(exhausted: ["us-central1-a"]))
        let reply = JSONValue.parse(Array(try set.create(createRequest(count: 1))))!
        #expect(rec.calls.filter { $0.hasPrefix("POST") } == ["POST zones/us-central1-a/instances", "POST zones/us-central1-b/instances"])
        #expect(reply["instances"].array?.first?["id"].string?.hasPrefix("us-central1-b/") == true)
        // the zone that worked is tried first next time
        _ = try set.create(createRequest(count: 1, token: "tok-2"))
        #expect(rec.calls.filter { $0.hasPrefix("POST") }.last == "POST zones/us-central1-b/instances")
    }

    @Test func everyZoneExhaustedIsCapacity() throws {
        let (set, _) = try makeSet(Self.cloud(exhausted: ["us-central1-a", "us-central1-b"]))
        #expect { try set.create(createRequest(count: 1)) } throws: { ($0 as? DriverError)?.errorClass == .capacityType }
    }

    @Test func capacityIsMoreInformativeThanInvalid() throws {
        let (set, _) = try makeSet(Self.cloud(exhausted: ["us-central1-a"], unknownTypeIn: ["us-central1-b"]))
        #expect { try set.create(createRequest(count: 1)) } throws: {
            ($0 as? DriverError)?.errorClass == .capacityType && ($0 as? DriverError)?.code == "ZONE_RESOURCE_POOL_EXHAUSTED"
        }
    }

    @Test func quotaDoesNotFailOver() throws {
        let (set, rec) = try makeSet { r in
            if r.url.contains("/aggregated/instances") { return json(200, #"{"items": {}}"#) }
            return json(200, #"{"name": "op", "zone": "zones/us-central1-a", "status": "DONE", "httpErrorStatusCode": 403, "error": {"errors": [{"code": "QUOTA_EXCEEDED", "message": "Quota 'CPUS' exceeded."}]}}"#)
        }
        #expect { try set.create(createRequest(count: 1)) } throws: { ($0 as? DriverError)?.errorClass == .quota }
        #expect(rec.calls.filter { $0.hasPrefix("POST") }.count == 1)
    }
}
