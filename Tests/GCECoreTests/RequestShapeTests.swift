import DriverSupport
import Foundation
import GCECore
import Testing

/// What the driver sends for each operation, checked on a scripted transport.
@Suite struct RequestShapeTests {
    /// Answers creates with a finished operation and gets with a running instance.
    static let happy: Recorder.Answer = { r in
        let zone = r.url.components(separatedBy: "/zones/").dropFirst().first?.components(separatedBy: "/").first ?? "us-central1-a"
        if r.url.contains("/aggregated/instances") { return json(200, #"{"items": {}}"#) }
        if r.method == "POST" { return json(200, operation(zone: zone)) }
        let name = r.url.components(separatedBy: "/").last!.components(separatedBy: "?")[0]
        return json(200, instanceJSON(zone: zone, name: name, status: "PROVISIONING"))
    }

    func body(_ r: HTTPRequest) -> JSONValue { JSONValue.parse(r.body)! }

    @Test func createOfOneIsAnInsertWithEveryTagAndKey() throws {
        let (set, rec) = try makeSet(Self.happy)
        let reply = JSONValue.parse(Array(try set.create(createRequest(count: 1))))!
        #expect(rec.calls.count == 3)
        #expect(rec.calls[0] == "GET aggregated/instances")  // the token's earlier instances, if any
        #expect(rec.calls[1] == "POST zones/us-central1-a/instances")
        #expect(rec.calls[2].hasPrefix("GET zones/us-central1-a/instances/cdd-"))
        let insert = rec.sent.first { $0.method == "POST" }!
        #expect(insert.url.contains("requestId=\(InstanceBody.requestID(setID: "s1", token: "tok-1", zone: "us-central1-a"))"))
        let b = body(insert)
        #expect(b["machineType"].string == "zones/us-central1-a/machineTypes/e2-micro")
        #expect(b["labels"]["cloud-dispatch-instance-set"].string == "s1")
        #expect(b["labels"][Labels.setKey].string == Labels.setValue("s1"))  // the set's own label
        let items = b["metadata"]["items"].array ?? []
        #expect(items.contains(.object(["key": .string("ssh-keys"), "value": .string("cloud-dispatch:ssh-ed25519 AAAAC3 cd")])))
        #expect(items.contains(.object(["key": .string("startup-script"), "value": .string("#!/bin/sh\necho hi")])))
        let disks = b["disks"].array ?? []
        #expect(disks.count == 2 && disks.allSatisfy { $0["autoDelete"].bool == true })
        #expect(disks[1]["initializeParams"]["diskSizeGb"].string == "5")
        #expect(b["networkInterfaces"].array?.first?["accessConfigs"] == JSONValue.null)  // no external IP unless configured
        #expect(b["scheduling"] == .null)
        #expect(reply["instances"].array?.first?["state"].string == "pending")
        #expect(reply["instances"].array?.first?["id"].string?.hasPrefix("us-central1-a/cdd-") == true)
    }

    @Test func createOfManyIsOneBulkInsert() throws {
        let lists = Counter()
        let (set, rec) = try makeSet { r in
            if r.url.contains("/aggregated/instances") {
                // after the bulk insert: the five instances it made (and one of another token)
                let made = (1...5).map { instanceJSON(zone: "us-central1-a", name: InstanceBody.name(base: InstanceBody.nameBase(setID: "s1", token: "tok-1"), index: $0),
                                                    labels: ["cloud-dispatch-instance-set": "s1"]) }
                let posted = lists.next() > 0
                return json(200, #"{"items": {"zones/us-central1-a": {"instances": [\#(posted ? made.joined(separator: ",") : "")]}}}"#)
            }
            return json(200, operation(zone: "us-central1-a"))
        }
        let reply = JSONValue.parse(Array(try set.create(createRequest(count: 5))))!
        #expect(rec.calls.filter { $0.hasPrefix("POST") } == ["POST zones/us-central1-a/instances/bulkInsert"])
        let b = body(rec.sent.first { $0.method == "POST" }!)
        #expect(b["count"].string == "5" && b["minCount"].string == "5")
        #expect(b["perInstanceProperties"].object?.count == 5)
        #expect(b["instanceProperties"]["machineType"].string == "e2-micro")
        #expect(reply["instances"].array?.count == 5)
    }

    @Test func spotIsSpotWithDelete() throws {
        let (set, rec) = try makeSet(Self.happy)
        _ = try set.create(createRequest(count: 1, preemptible: true))
        let s = body(rec.sent.first { $0.method == "POST" }!)["scheduling"]
        #expect(s["provisioningModel"].string == "SPOT")
        #expect(s["instanceTerminationAction"].string == "DELETE")
    }

    @Test func externalIPOnlyWhenConfigured() throws {
        let (set, rec) = try makeSet(config: #"{"project": "p1", "zones": ["us-central1-a"], "image": "img", "api_root": "http://api/compute/v1/", "external_ip": true, "service_account": "sa@p1.iam.gserviceaccount.com", "network_tags": ["workers"], "subnetwork": "regions/us-central1/subnetworks/s"}"#, Self.happy)
        _ = try set.create(createRequest(count: 1))
        let b = body(rec.sent.first { $0.method == "POST" }!)
        #expect(b["networkInterfaces"].array?.first?["accessConfigs"].array?.first?["type"].string == "ONE_TO_ONE_NAT")
        #expect(b["networkInterfaces"].array?.first?["subnetwork"].string == "regions/us-central1/subnetworks/s")
        #expect(b["serviceAccounts"].array?.first?["email"].string == "sa@p1.iam.gserviceaccount.com")
        #expect(b["tags"]["items"] == .array([.string("workers")]))
    }

    @Test func requestIDIsAStableUUIDPerTokenAndZone() {
        let a = InstanceBody.requestID(setID: "s1", token: "t", zone: "z-a")
        #expect(UUID(uuidString: a) != nil)
        #expect(a == InstanceBody.requestID(setID: "s1", token: "t", zone: "z-a"))
        #expect(a != InstanceBody.requestID(setID: "s1", token: "t", zone: "z-b"))
        #expect(a != InstanceBody.requestID(setID: "s1", token: "u", zone: "z-a"))
    }

    @Test func listFiltersByLabelsAndEncodesThem() throws {
        let (set, rec) = try makeSet { _ in json(200, #"{"items": {}}"#) }
        _ = try set.list(Data(#"{"tags": {"cloud-dispatch-instance-set": "s1", "cloud-dispatch-type": "e2.micro"}}"#.utf8))
        let url = rec.sent[0].url
        let filter = URLComponents(string: url)!.queryItems!.first { $0.name == "filter" }!.value!
        #expect(filter == #"(labels.cdd__set = "\#(Labels.setValue("s1"))") (labels.cloud-dispatch-instance-set = "s1") (labels.cloud-dispatch-type = "e2_2emicro")"#)
    }
}

