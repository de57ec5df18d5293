import API
import APIClient
import APIModels
import Foundation
import Queue
import Synchronization
import Testing

/// The operator's endpoints over real HTTP, against a stand-in for the dispatcher.
@Suite struct ManagementAPITests {
    /// A pool of two instances that records what the operator did.
    final class FakePool: ManagementService {
        let state = Mutex<(instances: [InstanceSummary], killed: [String: String])>((
            [InstanceSummary(id: "i-1", address: "10.0.0.1:22", instanceType: "small", providerType: "t3.small", price: 0.02, workerState: "idle",
                             idleBehavior: "run", runningContainers: [], lastBusy: Date(timeIntervalSince1970: 1_700_000_000), ageSeconds: 60),
             InstanceSummary(id: "i-2", address: "10.0.0.2:22", instanceType: "large", providerType: "m5.xlarge", price: 0.2, workerState: "running",
                             idleBehavior: "run", runningContainers: ["ctr-a"], lastBusy: Date(timeIntervalSince1970: 1_700_000_100), ageSeconds: 120)],
            [:]))

        func instances() async -> [InstanceSummary] { state.withLock { $0.instances } }

        func setIdleBehavior(_ behavior: String, instance id: String) async throws(ManagementError) -> InstanceSummary {
            try state.withLock { s throws(ManagementError) in
                guard let i = s.instances.firstIndex(where: { $0.id == id }) else { throw .unknownInstance(id) }
                s.instances[i].idleBehavior = behavior
                return s.instances[i]
            }
        }

        func kill(instance id: String, reason: String) async throws(ManagementError) {
            try state.withLock { s throws(ManagementError) in
                guard s.instances.contains(where: { $0.id == id }) else { throw .unknownInstance(id) }
                s.killed[id] = reason
            }
        }

        func explain(_ uuid: String) async throws(ManagementError) -> ContainerExplanation {
            guard uuid == "ctr-b" else { throw .unknownContainer(uuid) }
            return ContainerExplanation(uuid: "ctr-b", state: "Queued", summary: "waiting for a small instance to boot", priority: 1, position: 2,
                                        queueLength: 2, schedulingStatus: "waiting for a small instance to boot", attemptsEnded: 0, warning: nil,
                                        error: nil, instance: nil, exitCode: nil, cost: 0,
                                        types: [.init(name: "small", price: 0.02, eligible: true, reason: "the cheapest that fits", blocked: nil)])
        }

        func health() async -> [String: String] { ["driver": "failing: loopback.list: transient: busy", "runner": "ok, /bin/true"] }

        func queue() async -> [QueueEntry] {
            [QueueEntry(position: 1, uuid: "ctr-a", state: "Running on i-2", priority: 5, eligibleTypes: ["large"], schedulingStatus: nil),
             QueueEntry(position: 2, uuid: "ctr-b", state: "Queued", priority: 1, eligibleTypes: ["small", "large"],
                        schedulingStatus: "waiting for a small instance to boot")]
        }
    }

    static let json = ["Content-Type": "application/json"]

    static let endpoints: [(String, String, String?)] = [
        ("GET", "/v1/instances", nil), ("POST", "/v1/instances/i-1/hold", nil), ("POST", "/v1/instances/i-1/drain", nil),
        ("POST", "/v1/instances/i-1/run", nil), ("POST", "/v1/instances/i-1/kill", #"{"reason": "r"}"#), ("GET", "/v1/queue", nil),
        ("POST", "/v1/containers/ctr-x/kill", #"{"reason": "r"}"#), ("GET", "/v1/dispatchers", nil),
        ("POST", "/v1/dispatchers/d/forget", nil),
    ]

    @Test func everyEndpointNeedsAnAdminToken() async throws {
        let pool = FakePool()
        try await withServer(management: pool) { (server) async throws -> Void in
            for (method, path, body) in Self.endpoints {
                let (anonymous, _) = try await server.client(nil).raw(method, path, body: body.map { Data($0.utf8) }, headers: Self.json)
                #expect(anonymous == 401, "\(method) \(path) without a token")
                let (submitter, _) = try await server.client(LiveServer.submitterToken).raw(method, path, body: body.map { Data($0.utf8) }, headers: Self.json)
                #expect(submitter == 403, "\(method) \(path) with a submitter token")
            }
            #expect(pool.state.withLock { $0.killed }.isEmpty, "a refused request reached the pool")
        }
    }

    /// An SQLite queue has one member, its own daemon; it cannot be forgotten.
    @Test func theDispatchersAreListedWithTheirState() async throws {
        try await withServer { (server) async throws -> Void in
            #expect(try await server.client().dispatchers().isEmpty)
            try await server.store.register(DispatcherMember(id: "local", driver: "loopback", version: "v", host: "h", pid: 7))
            let listed = try await server.client().dispatchers()
            #expect(listed.map(\.id) == ["local"] && listed[0].state == "active" && listed[0].instanceSet == "local" && listed[0].epoch == 1)
            let (status, _) = try await server.client().raw("POST", "/v1/dispatchers/local/forget")
            #expect(status == 409)
        }
    }

    @Test func instancesIdleBehaviourAndKill() async throws {
        let pool = FakePool()
        try await withServer(management: pool) { (server) async throws -> Void in
            let client = server.client()
            let listed = try await client.instances()
            #expect(listed.map(\.id) == ["i-1", "i-2"])
            #expect(listed[1].runningContainers == ["ctr-a"] && listed[1].providerType == "m5.xlarge")

            #expect(try await client.setIdleBehavior("drain", instance: "i-1").idleBehavior == "drain")
            #expect(try await client.setIdleBehavior("hold", instance: "i-2").idleBehavior == "hold")
            #expect(try await client.instances().map(\.idleBehavior) == ["drain", "hold"])

            try await client.kill(instance: "i-2", reason: "disk failing")
            #expect(pool.state.withLock { $0.killed } == ["i-2": "disk failing"])

            let (unknown, body) = try await client.raw("POST", "/v1/instances/i-9/hold")
            #expect(unknown == 404)
            #expect(String(decoding: body, as: UTF8.self).contains("no instance i-9"))
            let (noReason, _) = try await client.raw("POST", "/v1/instances/i-1/kill", body: Data("{}".utf8), headers: Self.json)
            #expect(noReason == 400)
            let (junk, _) = try await client.raw("POST", "/v1/instances/i-1/kill", body: Data("not json".utf8), headers: Self.json)
            #expect(junk == 400)
            let (emptyReason, _) = try await client.raw("POST", "/v1/instances/i-1/kill", body: Data(#"{"reason": ""}"#.utf8), headers: Self.json)
            #expect(emptyReason == 400)
            #expect(pool.state.withLock { $0.killed.count } == 1)
        }
    }

    @Test func theQueueViewKeepsTheSchedulersOrder() async throws {
        try await withServer(management: FakePool()) { (server) async throws -> Void in
            let queue = try await server.client().schedulerQueue()
            #expect(queue.map(\.uuid) == ["ctr-a", "ctr-b"])
            #expect(queue[1].eligibleTypes == ["small", "large"])
            #expect(queue[1].schedulingStatus == "waiting for a small instance to boot")
        }
    }

    @Test func explainAnswersSubmittersAndNamesUnknownContainers() async throws {
        try await withServer(management: FakePool()) { (server) async throws -> Void in
            let explained = try await server.client(LiveServer.submitterToken).explain("ctr-b")
            #expect(explained.summary == "waiting for a small instance to boot" && explained.types.first?.eligible == true)
            let (unknown, body) = try await server.client().raw("GET", "/v1/containers/ctr-zzz/explain")
            #expect(unknown == 404)
            #expect(String(decoding: body, as: UTF8.self).contains("no container ctr-zzz"))
            let (anonymous, _) = try await server.client(nil).raw("GET", "/v1/containers/ctr-b/explain")
            #expect(anonymous == 401)
        }
    }

    @Test func healthNamesAFailingPart() async throws {
        try await withServer(management: FakePool()) { (server) async throws -> Void in
            let (status, body) = try await server.client(nil).raw("GET", "/_health")
            #expect(status == 200)
            let parts = try JSONDecoder().decode([String: String].self, from: body)
            #expect(parts == ["status": "degraded", "store": "ok", "driver": "failing: loopback.list: transient: busy", "runner": "ok, /bin/true"])
        }
        try await withServer { (server) async throws -> Void in
            let (_, body) = try await server.client(nil).raw("GET", "/_health")
            #expect(try JSONDecoder().decode([String: String].self, from: body)["status"] == "ok")
        }
    }

    @Test func withoutADispatcherTheInstanceEndpointsAnswer503() async throws {
        try await withServer { (server) async throws -> Void in
            // The container and dispatcher endpoints are the store's: they answer without a dispatcher.
            for (method, path, body) in Self.endpoints where !path.hasPrefix("/v1/containers") && !path.hasPrefix("/v1/dispatchers") {
                let (status, _) = try await server.client().raw(method, path, body: body.map { Data($0.utf8) }, headers: Self.json)
                #expect(status == 503, "\(method) \(path)")
            }
        }
    }

    @Test func killingAContainerCancelsItWithTheOperatorsReason() async throws {
        try await withServer { (server) async throws -> Void in
            let admin = server.client()
            let made = try await server.client(LiveServer.submitterToken).submit([ContainerSpec(command: ["sleep", "1000"])])[0]
            let killed = try await admin.kill(container: made.uuid, reason: "runaway job")
            #expect(killed.state == .cancelled)
            #expect(killed.runtimeStatus.error == "killed by an operator: runaway job")
            let (unknown, _) = try await admin.raw("POST", "/v1/containers/ctr-nope/kill", body: Data(#"{"reason": "x"}"#.utf8), headers: Self.json)
            #expect(unknown == 404)
            let (noBody, _) = try await admin.raw("POST", "/v1/containers/\(made.uuid)/kill")
            #expect(noBody == 400)
            let (again, _) = try await admin.raw("POST", "/v1/containers/\(made.uuid)/kill", body: Data(#"{"reason": "x"}"#.utf8), headers: Self.json)
            #expect(again == 409)
        }
    }
}
