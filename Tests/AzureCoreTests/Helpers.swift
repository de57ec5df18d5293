import AzureCore
import DriverSupport
import Foundation
import Synchronization

func json(_ data: Data) -> [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }
func ids(_ data: Data) -> [String] { (json(data)["instances"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }
func body(_ object: [String: Any]) -> Data { try! JSONSerialization.data(withJSONObject: object) }

/// The error `body` throws, nil when it succeeds.
func failure<T>(_ body: () throws -> T) -> DriverError? {
    do { _ = try body(); return nil } catch { return error as? DriverError ?? DriverError(.internal, "not an DriverError: \(error)") }
}

/// A create request as the host sends it.
func createRequest(size: String = "Standard_D2s_v3", tags: [String: String], count: Int = 1, preemptible: Bool = false,
                   addedScratch: Int64 = 0, token: String? = nil, key: String? = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f test") -> Data {
    var request: [String: Any] = [
        "instance_type": ["name": "t", "provider_type": size, "vcpus": 2, "ram": 8 << 30, "preemptible": preemptible,
                          "price": 0.1, "added_scratch": addedScratch],
        "tags": tags, "count": count, "init_script": "#!/bin/sh\necho hello > /tmp/x\n",
    ]
    if let token { request["idempotency_token"] = token }
    if let key { request["ssh_public_key"] = key }
    return body(request)
}

/// An HTTP transport that answers from a handler and records every request (no network).
final class ScriptedTransport: HTTPTransport {
    let handler: @Sendable (HTTPRequest) throws(DriverError) -> HTTPResponse
    private let log = Mutex<[HTTPRequest]>([])

    init(_ handler: @escaping @Sendable (HTTPRequest) throws(DriverError) -> HTTPResponse) { self.handler = handler }

    func send(_ request: HTTPRequest) throws(DriverError) -> HTTPResponse {
        log.withLock { $0.append(request) }
        return try handler(request)
    }

    var requests: [HTTPRequest] { log.withLock { $0 } }
}

func jsonResponse(_ status: Int, _ object: Any, headers: [String: String] = [:]) -> HTTPResponse {
    HTTPResponse(status: status, headers: headers, body: Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data()))
}

/// A set over a scripted transport: a token endpoint that always answers, ARM from `arm`.
func scriptedSet(_ extra: String = "", setID: String = "set-1", clock: @escaping @Sendable () -> Int = { 1_800_000_000 },
                 _ arm: @escaping @Sendable (HTTPRequest) throws(DriverError) -> HTTPResponse) -> (AzureInstanceSet, ScriptedTransport) {
    let transport = ScriptedTransport { request throws(DriverError) in
        if request.url.contains("/oauth2/v2.0/token") {
            return jsonResponse(200, ["access_token": "tok", "expires_in": 3599, "token_type": "Bearer"])
        }
        return try arm(request)
    }
    let text = #"{"subscription_id": "sub", "resource_group": "rg", "location": "westeurope", "subnet_id": "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/s", "tenant_id": "t", "client_id": "c", "client_secret": "s", "arm_endpoint": "https://arm.test", "image": "Debian:debian-12:12-gen2:latest", "poll_interval_ms": 0"# + extra + "}"
    let config = try! AzureConfig.parse(text, environment: [:])
    let arm = ARMClient(config: config, tokens: TokenSource(settings: config.auth, transport: transport), transport: transport,
                        clock: clock, sleep: { _ in })
    return (AzureInstanceSet(setID: setID, config: config, arm: arm, clock: clock), transport)
}

/// A count shared between a test and a handler.
final class SharedCount: Sendable {
    private let value = Mutex(0)
    func add() -> Int { value.withLock { v in defer { v += 1 }; return v } }
    var current: Int { value.withLock { $0 } }
}
