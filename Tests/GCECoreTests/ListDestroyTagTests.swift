import DriverSupport
import Foundation
import GCECore
import Testing

@Suite struct ListDestroyTagTests {
    static func page(_ names: [String], next: String?) -> HTTPResponse {
        let items = names.map { instanceJSON(zone: "us-central1-a", name: $0, labels: ["cloud-dispatch-instance-set": "s1"]) }
        return json(200, #"{"items": {"zones/us-central1-a": {"instances": [\#(items.joined(separator: ","))]}}\#(next.map { #", "nextPageToken": "\#($0)""# } ?? "")}"#)
    }

    @Test func listFollowsEveryPage() throws {
        let (set, rec) = try makeSet { r in
            if r.url.contains("pageToken=t2") { return Self.page(["c"], next: nil) }
            if r.url.contains("pageToken=t1") { return Self.page(["b"], next: "t2") }
            return Self.page(["a"], next: "t1")
        }
        let reply = JSONValue.parse(Array(try set.list(Data(#"{"tags": {"cloud-dispatch-instance-set": "s1"}}"#.utf8))))!
        #expect(reply["instances"].array?.compactMap { $0["id"].string } == ["us-central1-a/a", "us-central1-a/b", "us-central1-a/c"])
        #expect(rec.sent.count == 3)
    }

    @Test func aRepeatedPageTokenOrTooManyPagesIsNeverAPartialList() throws {
        let (loop, _) = try makeSet { _ in Self.page(["a"], next: "same") }
        #expect { try loop.list(Data(#"{"tags": {}}"#.utf8)) } throws: { ($0 as? DriverError)?.errorClass == .internal }
        let counter = Counter()
        let (endless, _) = try makeSet(config: #"{"project": "p1", "zones": ["us-central1-a"], "api_root": "http://api/compute/v1/", "max_pages": 3}"#) { _ in
            Self.page(["a"], next: "t\(counter.next())")
        }
        #expect { try endless.list(Data(#"{"tags": {}}"#.utf8)) } throws: { ($0 as? DriverError)?.errorClass == .transient }
    }

    @Test func anUnreachableZoneFailsTheList() throws {
        let (set, _) = try makeSet { _ in json(200, #"{"items": {}, "unreachables": ["zones/us-central1-b"]}"#) }
        #expect { try set.list(Data(#"{"tags": {}}"#.utf8)) } throws: { ($0 as? DriverError)?.errorClass == .transient }
    }

    @Test func statesMapAndTagsDecode() throws {
        let (set, _) = try makeSet { _ in
            let items = [("p", "PROVISIONING"), ("s", "STAGING"), ("r", "RUNNING"), ("x", "STOPPING"), ("t", "TERMINATED")].map {
                instanceJSON(zone: "us-central1-a", name: $0.0, status: $0.1, labels: ["cloud-dispatch-type": "e2_2emicro"])
            }
            return json(200, #"{"items": {"zones/us-central1-a": {"instances": [\#(items.joined(separator: ","))]}}}"#)
        }
        let reply = JSONValue.parse(Array(try set.list(Data(#"{"tags": {"cloud-dispatch-type": "e2.micro"}}"#.utf8))))!
        let states = (reply["instances"].array ?? []).map { $0["state"].string ?? "" }
        #expect(states == ["pending", "running", "pending", "stopped", "stopping"])  // ids p r s t x
        #expect(reply["instances"].array?.first?["tags"]["cloud-dispatch-type"].string == "e2.micro")
        #expect(reply["instances"].array?.first?["address"].string == "10.0.0.2")
    }

    @Test func destroyCountsOnlyARealNotFoundAsGone() throws {
        let (set, rec) = try makeSet { r in
            if r.url.contains("/aggregated/instances") { return Self.page(["ok", "gone", "flaky", "odd"], next: nil) }
            if r.url.hasSuffix("/gone") {
                return json(404, ErrorClassTests.httpError(404, "notFound", "The resource 'projects/p1/zones/us-central1-a/instances/gone' was not found"))
            }
            if r.url.hasSuffix("/flaky") { return json(503, ErrorClassTests.httpError(503, "backendError")) }
            if r.url.hasSuffix("/odd") { return json(404, ErrorClassTests.httpError(404, "notFound", "The resource 'projects/p1/zones/nowhere' was not found")) }
            return json(200, operation(zone: "us-central1-a", status: "RUNNING"))
        }
        let reply = JSONValue.parse(Array(try set.destroy(Data(#"{"ids": ["us-central1-a/ok", "us-central1-a/gone", "us-central1-a/flaky", "us-central1-a/odd", "not an id"]}"#.utf8))))!
        #expect(reply["destroyed"] == .array(["not an id", "us-central1-a/gone", "us-central1-a/ok"].map(JSONValue.string)))
        let failed = (reply["failed"].array ?? []).map { "\($0["id"].string!) \($0["class"].string!)" }
        #expect(failed == ["us-central1-a/flaky transient", "us-central1-a/odd not_found"])
        #expect(rec.calls.filter { $0.hasPrefix("DELETE") }.count == 4)
    }

    @Test func destroyFailingWhollyForOneReasonFailsTheCall() throws {
        let (set, _) = try makeSet { r in
            if r.url.contains("/aggregated/instances") { return Self.page(["a", "b"], next: nil) }
            return json(403, ErrorClassTests.httpError(403, "forbidden"))
        }
        #expect { try set.destroy(Data(#"{"ids": ["us-central1-a/a", "us-central1-a/b"]}"#.utf8)) } throws: { ($0 as? DriverError)?.errorClass == .auth }
    }

    @Test func setTagsRereadsOnAStaleFingerprint() throws {
        let setLabels = Counter()
        let (set, rec) = try makeSet { r in
            if r.url.hasSuffix("/setLabels") {
                if setLabels.next() == 0 { return json(412, ErrorClassTests.httpError(412, "conditionNotMet")) }
                return json(200, operation(zone: "us-central1-a"))
            }
            return json(200, instanceJSON(zone: "us-central1-a", name: "a", labels: ["keep": "me"]))
        }
        _ = try set.setTags(Data(#"{"ids": ["us-central1-a/a"], "tags": {"new": "Value"}}"#.utf8))
        #expect(rec.calls == ["GET zones/us-central1-a/instances/a", "POST zones/us-central1-a/instances/a/setLabels",
                              "GET zones/us-central1-a/instances/a", "POST zones/us-central1-a/instances/a/setLabels"])
        let b = JSONValue.parse(rec.sent.last!.body)!
        #expect(b["labels"] == .object(["keep": .string("me"), "new": .string("_56alue"), Labels.setKey: .string(Labels.setValue("s1"))]))
        #expect(b["labelFingerprint"].string == "fp1")
    }

    @Test func anotherSetsInstancesAreNeitherDestroyedNorTagged() throws {
        let (set, rec) = try makeSet { r in
            if r.url.contains("/aggregated/instances") { return Self.page(["mine"], next: nil) }  // the set's own listing
            if r.method == "GET" { return json(200, instanceJSON(zone: "us-central1-a", name: "theirs", set: "other")) }
            return json(200, operation(zone: "us-central1-a", status: "RUNNING"))
        }
        let reply = JSONValue.parse(Array(try set.destroy(Data(#"{"ids": ["us-central1-a/mine", "us-central1-a/theirs"]}"#.utf8))))!
        #expect(reply["destroyed"] == .array(["us-central1-a/mine", "us-central1-a/theirs"].map(JSONValue.string)))
        #expect(rec.calls.filter { $0.hasPrefix("DELETE") } == ["DELETE zones/us-central1-a/instances/mine"])
        #expect { try set.setTags(Data(#"{"ids": ["us-central1-a/theirs"], "tags": {"k": "v"}}"#.utf8)) } throws: { ($0 as? DriverError)?.errorClass == .notFound }
        #expect(!rec.calls.contains { $0.hasSuffix("/setLabels") })
    }

    @Test func setTagsOnAMissingInstanceIsNotFound() throws {
        let (set, _) = try makeSet { _ in json(404, ErrorClassTests.httpError(404, "notFound")) }
        #expect { try set.setTags(Data(#"{"ids": ["us-central1-a/a"], "tags": {"k": "v"}}"#.utf8)) } throws: { ($0 as? DriverError)?.errorClass == .notFound }
        #expect { try set.setTags(Data(#"{"ids": ["junk"], "tags": {"k": "v"}}"#.utf8)) } throws: { ($0 as? DriverError)?.errorClass == .notFound }
    }
}

@Suite struct InterruptionTests {
    @Test func aSpotInstanceBeingStoppedIsANotice() throws {
        let (set, rec) = try makeSet { _ in
            let spot = #"{"name": "spot", "zone": "zones/us-central1-a", "machineType": "e2-micro", "status": "STOPPING", "scheduling": {"provisioningModel": "SPOT"}, "labels": {"cdd__set": "\#(Labels.setValue("s1"))"}}"#
            let ondemand = instanceJSON(zone: "us-central1-a", name: "steady", status: "STOPPING")
            let running = #"{"name": "fine", "zone": "zones/us-central1-a", "machineType": "e2-micro", "status": "RUNNING", "scheduling": {"provisioningModel": "SPOT"}, "labels": {"cdd__set": "\#(Labels.setValue("s1"))"}}"#
            return json(200, #"{"items": {"zones/us-central1-a": {"instances": [\#(spot), \#(ondemand), \#(running)]}}}"#)
        }
        let reply = JSONValue.parse(Array(try set.interruptions(Data("{}".utf8))))!
        let notices = reply["notices"].array ?? []
        #expect(notices.compactMap { $0["id"].string } == ["us-central1-a/spot"])
        #expect(notices.first?["at"].string?.hasSuffix("Z") == true)
        #expect(rec.calls == ["GET aggregated/instances"])
    }
}
