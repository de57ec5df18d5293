import API
import APIClient
import Foundation
import JSON
import Queue
import Testing

@Suite struct APITests {
    @Test func everyServedRouteIsInTheOpenAPIDocumentAndBack() throws {
        let server = APIServer(store: NoStore(), tokens: TokenTable([]), logger: .init(label: "t"))
        let served = Set(server.makeRouter().1)
        #expect(served == OpenAPIDocument.operations)
        #expect(served.count == 24)
    }

    @Test func submitReadPrioritiseCancel() async throws {
        try await withServer { (server) async throws -> Void in
            let client = server.client(LiveServer.submitterToken)
            let spec = ContainerSpec(command: ["echo", "hi"], environment: ["K": "v"], priority: 5,
                                     runtimeConstraints: RuntimeConstraints(vcpus: 2, ram: 1 << 30))
            let made = try #require(try await client.submit([spec]).first)
            #expect(made.state == .queued && made.priority == 5 && made.runtimeConstraints.vcpus == 2)
            #expect(try await client.get(made.uuid) == made)
            let reprioritised = try await client.setPriority(made.uuid, 9)
            #expect(reprioritised.priority == 9)
            let cancelled = try await client.cancel(made.uuid, reason: "changed my mind")
            #expect(cancelled.state == .cancelled && cancelled.runtimeStatus.error == "changed my mind")
            await #expect { try await client.cancel(made.uuid, reason: nil) } throws: { error in
                guard case .http(409, "invalid_transition", let message, _)? = error as? APIClient.Failure else { return false }
                return message == "container \(made.uuid) is Cancelled: cancel is not allowed"
            }
        }
    }

    @Test func aBatchIsAllOrNothingAndPagesInOrder() async throws {
        try await withServer { (server) async throws -> Void in
            let client = server.client()
            let made = try await client.submit((0..<30).map { ContainerSpec(command: ["task", "\($0)"]) })
            #expect(made.count == 30)
            #expect(try await client.listAll().map(\.uuid) == made.map(\.uuid))
            let first = try await client.list(limit: 7)
            #expect(first.items.count == 7 && first.next == made[6].uuid)
            // One bad spec: the whole batch is refused, naming the field.
            var bad = ContainerSpec(command: ["x"])
            bad.runtimeConstraints.ram = -5
            await #expect { try await client.submit([ContainerSpec(command: ["ok"]), bad]) } throws: { error in
                guard case .http(400, "validation_failed", _, let details)? = error as? APIClient.Failure else { return false }
                return details.map(\.field) == ["containers[1].runtime_constraints.ram"]
            }
            #expect(try await client.listAll().count == 30)
        }
    }

    @Test func dispatcherTransitionsGoThroughTheStateMachine() async throws {
        try await withServer { (server) async throws -> Void in
            let admin = server.client()
            let c = try await admin.submit([ContainerSpec(command: ["run"])])[0]
            func post(_ path: String, _ json: String) async throws -> (Int, JSONValue) {
                let (status, data) = try await admin.raw("POST", path, body: Data(json.utf8), headers: ["Content-Type": "application/json"])
                return (status, try JSONValue(parsing: data))
            }
            let (lockStatus, locked) = try await post("/v1/containers/lock", #"{"dispatcher": "d1", "uuids": ["\#(c.uuid)", "ctr-none"]}"#)
            #expect(lockStatus == 200)
            #expect(locked["containers"] == .array([try JSONValue(parsing: JSONEncoder.api.encode(try await admin.get(c.uuid)))]))
            let (notHolder, error) = try await post("/v1/containers/\(c.uuid)/start", #"{"dispatcher": "d2", "instance": "small i-1"}"#)
            #expect(notHolder == 409 && error["error"]?["code"] == .string("not_lock_holder"))
            #expect(try await post("/v1/containers/\(c.uuid)/start", #"{"dispatcher": "d1", "instance": "small i-1"}"#).0 == 200)
            let (done, record) = try await post("/v1/containers/\(c.uuid)/complete", #"{"dispatcher": "d1", "exit_code": 0, "log": "ok\n", "cost": 0.01}"#)
            #expect(done == 200 && record["state"] == .string("Complete") && record["exit_code"] == .integer(0))
            #expect(try await admin.log(c.uuid) == "ok\n")
            let (again, _) = try await post("/v1/containers/\(c.uuid)/complete", #"{"dispatcher": "d1", "exit_code": 1}"#)
            #expect(again == 409)
        }
    }

    @Test func tokensAndRoles() async throws {
        try await withServer { (server) async throws -> Void in
            let anonymous = server.client(nil)
            let stranger = server.client("not-a-real-token-000000")
            let submitter = server.client(LiveServer.submitterToken)
            #expect(try await anonymous.raw("GET", "/v1/containers").0 == 401)
            #expect(try await stranger.raw("GET", "/v1/containers").0 == 401)
            #expect(try await submitter.raw("GET", "/v1/containers").0 == 200)
            let lock = Data(#"{"dispatcher": "d", "uuids": ["x"]}"#.utf8)
            let (status, data) = try await submitter.raw("POST", "/v1/containers/lock", body: lock, headers: ["Content-Type": "application/json"])
            #expect(status == 403)
            #expect(String(decoding: data, as: UTF8.self).contains("token alice has role submitter; this needs admin"))
            #expect(try await server.client().raw("POST", "/v1/containers/lock", body: lock, headers: ["Content-Type": "application/json"]).0 == 200)
            // Public endpoints need no token.
            #expect(try await anonymous.raw("GET", "/_health").0 == 200)
            let (docStatus, doc) = try await anonymous.raw("GET", "/openapi.json")
            #expect(docStatus == 200 && doc == OpenAPIDocument.data)
            #expect(try await anonymous.raw("GET", "/v1/containers/ctr-x").0 == 401)
            #expect(try await submitter.raw("GET", "/v1/containers/ctr-x").0 == 404)
        }
    }

    /// Bad input gets a clear 4xx naming the problem, and nothing is stored.
    @Test(arguments: [
        (#"{"command": ["a"]"#, 400, "bad_request", "the body is not valid JSON: expected ',' or '}' in an object at byte 17"),
        (#"{"command": ["a"], "command": ["b"]}"#, 400, "bad_request", #"the body is not valid JSON: member "command" appears twice at byte 19"#),
        (#"{"command": ["a"], "colour": "red"}"#, 400, "validation_failed", "colour: unknown member"),
        (#"{"command": []}"#, 400, "validation_failed", "command: fewer than 1 items"),
        (#"{"command": ["a"], "runtime_constraints": {"vcpus": -1}}"#, 400, "validation_failed", "runtime_constraints.vcpus: -1 is below the minimum 1"),
        (#"{"command": ["a"], "runtime_constraints": {"ram": 1e30}}"#, 400, "validation_failed", "runtime_constraints.ram"),
        (#"{"command": ["a"], "priority": "high"}"#, 400, "validation_failed", "priority: expected integer, got string"),
        (#"{"command": ["a"], "environment": {"1BAD": "x"}}"#, 400, "validation_failed", "environment.1BAD (name): \"1BAD\" does not match ^[A-Za-z_][A-Za-z0-9_]*$"),
        (#"{"command": ["a"], "cwd": "relative"}"#, 400, "validation_failed", "cwd"),
        (#"[1, 2]"#, 400, "validation_failed", "expected object"),
    ])
    func badBodiesAreRefusedWithTheirReason(body: String, status: Int, code: String, mentions: String) async throws {
        try await withServer { (server) async throws -> Void in
            let client = server.client()
            let (got, data) = try await client.raw("POST", "/v1/containers", body: Data(body.utf8), headers: ["Content-Type": "application/json"])
            let text = String(decoding: data, as: UTF8.self)
            #expect(got == status, "\(text)")
            let error = try JSONValue(parsing: data)
            #expect(OpenAPIDocument.schemas.validate(error, against: "Error").isEmpty, "\(text)")
            #expect(error["error"]?["code"] == .string(code), "\(text)")
            var said = [String]()
            if case .string(let message)? = error["error"]?["message"] { said.append(message) }
            if case .array(let details)? = error["error"]?["details"] {
                for case .object(let d) in details {
                    if case .string(let f)? = d["field"], case .string(let r)? = d["rule"] { said.append("\(f): \(r)") }
                }
            }
            #expect(said.contains { $0.contains(mentions) }, "\(text)")
            #expect(try await client.listAll().isEmpty)
        }
    }

    @Test func oversizedInvalidUTF8AndWrongTypeBodies() async throws {
        try await withServer(maxBodyBytes: 4096) { (server) async throws -> Void in
            let client = server.client()
            let json = ["Content-Type": "application/json"]
            let huge = Data((#"{"command": [""# + String(repeating: "x", count: 10_000) + #""]}"#).utf8)
            #expect(try await client.raw("POST", "/v1/containers", body: huge, headers: json).0 == 413)
            var invalid = Data(#"{"command": [""#.utf8)
            invalid.append(contentsOf: [0xff, 0xfe])
            invalid.append(Data(#""]}"#.utf8))
            let (badUTF8, text) = try await client.raw("POST", "/v1/containers", body: invalid, headers: json)
            #expect(badUTF8 == 400 && String(decoding: text, as: UTF8.self).contains("not valid UTF-8"))
            let form = Data("command=rm".utf8)
            #expect(try await client.raw("POST", "/v1/containers", body: form, headers: ["Content-Type": "application/x-www-form-urlencoded"]).0 == 415)
            #expect(try await client.listAll().isEmpty)
        }
    }

    @Test func responsesMatchTheirOpenAPISchemas() async throws {
        try await withServer { (server) async throws -> Void in
            let client = server.client()
            let c = try await client.submit([ContainerSpec(command: ["a"], containerImage: "debian:12", clientRequestID: "r1")])[0]
            _ = try await client.cancel(c.uuid, reason: "x")
            let (_, one) = try await client.raw("GET", "/v1/containers/\(c.uuid)")
            #expect(OpenAPIDocument.schemas.validate(try JSONValue(parsing: one), against: "Container") == [])
            let (_, page) = try await client.raw("GET", "/v1/containers?limit=5")
            #expect(OpenAPIDocument.schemas.validate(try JSONValue(parsing: page), against: "ContainerPage") == [])
            let (_, health) = try await client.raw("GET", "/_health")
            #expect(OpenAPIDocument.schemas.validate(try JSONValue(parsing: health), against: "Health") == [])
        }
    }

    @Test func listQueryParametersAreChecked() async throws {
        try await withServer { (server) async throws -> Void in
            let client = server.client()
            #expect(try await client.raw("GET", "/v1/containers?state=Sleeping").0 == 400)
            #expect(try await client.raw("GET", "/v1/containers?limit=0").0 == 400)
            #expect(try await client.raw("GET", "/v1/containers?limit=5000").0 == 400)
            #expect(try await client.raw("GET", "/v1/containers?state=Queued&min_priority=2").0 == 200)
        }
    }
}

@Suite struct TokenTests {
    @Test func authenticatesByExactMatchOnly() {
        let table = TokenTable([.init(name: "a", role: .submitter, secret: "secret-aaaaaaaaaaaa"),
                                .init(name: "b", role: .admin, secret: "secret-bbbbbbbbbbbb")])
        #expect(table.authenticate("secret-bbbbbbbbbbbb")?.name == "b")
        #expect(table.authenticate("secret-aaaaaaaaaaaa")?.role == .submitter)
        #expect(table.authenticate("secret-aaaaaaaaaaa") == nil)
        #expect(table.authenticate("secret-aaaaaaaaaaaaa") == nil)
        #expect(table.authenticate("") == nil)
    }
}

extension JSONEncoder {
    static var api: JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .custom { date, enc in
            var c = enc.singleValueContainer()
            try c.encode(Timestamp.format(date))
        }
        return e
    }
}

/// A store that is never called (for route-table checks).
struct NoStore: ContainerStore {
    func submit(_ specs: [ContainerSpec]) async throws(QueueError) -> [Container] { throw .unavailable("none") }
    func get(_ uuid: String) async throws(QueueError) -> Container { throw .unavailable("none") }
    func list(_ query: ContainerQuery) async throws(QueueError) -> ContainerPage { throw .unavailable("none") }
    func apply(_ event: Event, to uuid: String) async throws(QueueError) -> Container { throw .unavailable("none") }
    func lock(_ uuids: [String], by dispatcher: String) async throws(QueueError) -> [Container] { throw .unavailable("none") }
    func setSchedulingStatus(_ statuses: [String: String], by dispatcher: String) async throws(QueueError) {}
    func changes() -> AsyncStream<Void> { AsyncStream { $0.finish() } }
    func changeCursor() async throws(QueueError) -> ChangeCursor { throw .unavailable("none") }
    func summaries(changedSince cursor: ChangeCursor) async throws(QueueError) -> ContainerChanges { throw .unavailable("none") }
    func probeWrite() async throws(QueueError) { throw .unavailable("none") }
    func acquireLease(for dispatcher: String, holder: LeaseHolder) async throws(QueueError) -> any DispatcherLease { throw .unavailable("none") }
    func close() async {}
}
