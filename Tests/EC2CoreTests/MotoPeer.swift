import DriverSupport
import EC2Core
import Foundation
import Synchronization

/// The moto server the live tests talk to: `CLOUD_DISPATCH_TEST_MOTO` when set (make
/// ec2-test starts one), else one this process starts with support/moto.sh and that stops
/// when this process ends. Never skipped: if moto cannot run, the tests fail.
/// Also the fault proxy (Tests/ec2/fault_proxy.py) in front of it, started on first use.
enum MotoPeer {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static let started = Mutex<(moto: String?, proxy: String?, keep: [Process])>((nil, nil, []))

    static func endpoint() throws -> String {
        if let given = ProcessInfo.processInfo.environment["CLOUD_DISPATCH_TEST_MOTO"], !given.isEmpty { return given }
        return try started.withLock { state in
            if let url = state.moto { return url }
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cdd-moto-\(getpid())").path
            // Not waited for: Process.waitUntilExit can hang inside a test run; moto.sh has
            // already exited once it printed the URL.
            let (url, _) = try run(["bash", repo.appendingPathComponent("support/moto.sh").path, "start", dir, "auto"],
                                         environment: ["MOTO_OWNER_PID": "\(getpid())"], keepStdin: false)
            state.moto = url
            return url
        }
    }

    /// The fault proxy's URL; it forwards to moto.
    static func proxy() throws -> String {
        let upstream = try endpoint()
        return try started.withLock { state in
            if let url = state.proxy { return url }
            let (url, process) = try run(["python3", repo.appendingPathComponent("Tests/ec2/fault_proxy.py").path, "--upstream", upstream],
                                         environment: [:], keepStdin: true)
            state.keep.append(process)  // its stdin stays open until this process exits
            state.proxy = url
            return url
        }
    }

    /// Starts `argv` and reads the URL it prints first.
    private static func run(_ argv: [String], environment: [String: String], keepStdin: Bool) throws -> (String, Process) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = keepStdin ? Pipe() : FileHandle.nullDevice
        try process.run()
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line += byte
        }
        let url = String(decoding: line, as: UTF8.self)
        guard url.hasPrefix("http://") else { throw MotoError("\(argv.joined(separator: " ")) printed no URL (got \"\(url)\")") }
        return (url, process)
    }

    /// A plain HTTP call to moto's or the proxy's control API.
    @discardableResult
    static func control(_ method: String, _ url: String, body: String = "", contentType: String = "text/plain") throws -> HTTPResponse {
        let response = try CurlTransport(connectTimeoutMs: 5000, caBundle: nil)
            .send(HTTPRequest(method: method, url: url, headers: [("Content-Type", contentType)], body: Array(body.utf8)))
        guard (200...299).contains(response.status) else { throw MotoError("\(method) \(url): HTTP \(response.status)") }
        return response
    }

    /// An instance set on moto (or the proxy), with a transport that counts actions.
    static func set(_ setID: String, endpoint: String, extra: String = "", secret: String = "moto-secret",
                    accessKey: String = "AKIDEXAMPLE") throws -> (EC2InstanceSet, CountingTransport) {
        let json = #"{"region": "us-east-1", "endpoint": "\#(endpoint)", "access_key_id": "\#(accessKey)", "secret_access_key": "\#(secret)", "image": "ami-760aaa0f", "use_instance_role": false\#(extra)}"#
        let config = try EC2Config.parse(json, environment: [:])
        let transport = CountingTransport(CurlTransport(connectTimeoutMs: 5000, caBundle: nil))
        let client = EC2Client(config: config, credentials: CredentialChain(settings: config.credentials, environment: [:]), transport: transport)
        return (EC2InstanceSet(setID: setID, config: config, client: client), transport)
    }
}

struct MotoError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Passes requests on and counts them by EC2 action.
final class CountingTransport: HTTPTransport {
    let inner: any HTTPTransport
    private let counts = Mutex<[String: Int]>([:])

    init(_ inner: any HTTPTransport) { self.inner = inner }

    func send(_ request: HTTPRequest) throws(DriverError) -> HTTPResponse {
        let action = FakeEC2.form(request.body)["Action"] ?? request.method
        counts.withLock { $0[action, default: 0] += 1 }
        return try inner.send(request)
    }

    func count(_ action: String) -> Int { counts.withLock { $0[action] ?? 0 } }
}
