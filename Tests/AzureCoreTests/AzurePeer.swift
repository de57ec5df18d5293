import AzureCore
import DriverSupport
import Foundation
import Synchronization
import TestSupport

/// The fake ARM server (Tests/azure/fake_arm.py) the scenario tests talk to: one per test
/// process, started on first use, stopped when this process ends (it exits when its standard
/// input closes). Never skipped: if it cannot run, the tests fail.
enum AzurePeer {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let subscription = "00000000-0000-0000-0000-0000000000aa"
    static let group = "rg-cdd"
    static let subnet = "/subscriptions/\(subscription)/resourceGroups/\(group)/providers/Microsoft.Network/virtualNetworks/vnet/subnets/workers"

    struct Endpoints: Sendable { var arm: String; var imds: String; var ca: String }

    private static let started = Mutex<(endpoints: Endpoints?, child: ChildProcess?, stdin: Int32)>((nil, nil, -1))

    static func endpoints() throws -> Endpoints {
        try started.withLock { state in
            if let e = state.endpoints { return e }
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cdd-azure-\(getpid())").path
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var input: [Int32] = [0, 0]
            _ = Glibc.pipe(&input)
            _ = fcntl(input[1], F_SETFD, FD_CLOEXEC)
            let out = ChildProcess.pipe()
            let child = try ChildProcess("/usr/bin/env", ["python3", repo.appendingPathComponent("Tests/azure/fake_arm.py").path, "--dir", dir],
                                         input: input[0], output: out.write, errors: 2)
            close(input[0])
            close(out.write)
            let arm = readLine(out.read), imds = readLine(out.read)
            guard arm.hasPrefix("https://"), imds.hasPrefix("http://") else {
                throw PeerError("fake_arm.py printed no URLs (got \"\(arm)\")")
            }
            let e = Endpoints(arm: arm, imds: imds, ca: dir + "/ca.pem")
            state = (e, child, input[1])  // input[1] stays open until this process exits
            return e
        }
    }

    private static func readLine(_ handle: FileHandle) -> String {
        var line = Data()
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line += byte
        }
        return String(decoding: line, as: UTF8.self)
    }

    /// A control call to the fake (`/_fake/...`), answered as JSON.
    @discardableResult
    static func control(_ method: String, _ path: String, _ body: Any? = nil) throws -> Any {
        let e = try endpoints()
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        let response = try CurlTransport(connectTimeoutMs: 5000, caBundle: e.ca)
            .send(HTTPRequest(method: method, url: e.arm + path, headers: [("Content-Type", "application/json")], body: Array(data)))
        guard (200...299).contains(response.status) else { throw PeerError("\(method) \(path): HTTP \(response.status)") }
        return (try? JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed])) ?? NSNull()
    }

    static func faults(_ rules: [[String: Any]]) throws { try control("POST", "/_fake/faults", rules) }
    static func clearFaults() throws { try control("DELETE", "/_fake/faults") }
    static func state() throws -> [String: [String: Any]] { try control("GET", "/_fake/state") as? [String: [String: Any]] ?? [:] }
    static func violations() throws -> [String] { try control("GET", "/_fake/violations") as? [String] ?? [] }

    /// Names of the fake's resources of one kind that start with `prefix`.
    static func names(_ kind: String, prefix: String) throws -> [String] {
        let all = try state()[kind] ?? [:]
        return all.values.compactMap { ($0 as? [String: Any])?["name"] as? String }.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// An instance set on the fake, with the client-secret token source. Each test uses its own
    /// set id, so tests never see each other's VMs (the fake is shared).
    static func set(_ setID: String, extra: String = "", secret: String = "fake-secret",
                    clock: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }) throws -> AzureInstanceSet {
        let e = try endpoints()
        let json = #"{"subscription_id": "\#(subscription)", "resource_group": "\#(group)", "location": "westeurope", "subnet_id": "\#(subnet)", "tenant_id": "tenant-1", "client_id": "client-1", "client_secret": "\#(secret)", "authority_host": "\#(e.arm)", "arm_endpoint": "\#(e.arm)", "ca_bundle": "\#(e.ca)", "image": "Debian:debian-12:12-gen2:latest", "poll_interval_ms": 10, "create_wait": 20, "destroy_wait": 20\#(extra)}"#
        let config = try AzureConfig.parse(json, environment: [:])
        let transport = CurlTransport(connectTimeoutMs: 5000, caBundle: e.ca)
        let tokens = TokenSource(settings: config.auth, transport: transport)
        let arm = ARMClient(config: config, tokens: tokens, transport: transport, clock: clock)
        return AzureInstanceSet(setID: setID, config: config, arm: arm, clock: clock)
    }
}

struct PeerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
