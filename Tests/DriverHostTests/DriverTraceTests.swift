import Foundation
import JSON
import Testing
@testable import DriverHost

/// The driver trace is for debugging and schema checks: it must never hold an instance secret.
@Suite struct DriverTraceTests {
    @Test func initScriptsAndSecretTagsAreRedactedInRequestsAndReplies() throws {
        let request = ##"{"count": 2, "init_script": "#!/bin/sh\necho s3cr3t > f\n", "tags": {"cloud-dispatch-secret": "s3cr3t", "cloud-dispatch-instance-type": "small"}}"##
        let reply = #"{"instances": [{"id": "i-1", "tags": {"cloud-dispatch-secret": "s3cr3t", "team": "a"}}]}"#
        let req = DriverTrace.redacted(request)
        let rep = DriverTrace.redacted(reply)
        #expect(!req.contains("s3cr3t") && !rep.contains("s3cr3t"))
        let r = try JSONValue(parsing: Data(req.utf8))
        #expect(r["init_script"] == .string("(26 bytes)"))
        #expect(r["tags"]?["cloud-dispatch-secret"] == .string("(redacted)"))
        #expect(r["tags"]?["cloud-dispatch-instance-type"] == .string("small"))
        #expect(r["count"] == .integer(2), "numbers keep their kind")
        #expect(try JSONValue(parsing: Data(rep.utf8))["instances"] == .array([.object(["id": .string("i-1"), "tags": .object([
            "cloud-dispatch-secret": .string("(redacted)"), "team": .string("a")])])]))
    }
}
