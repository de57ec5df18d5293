import DriverSupport
import EC2Core
import Foundation
import Synchronization

/// An HTTP transport that answers from a handler and records every request, so request
/// shapes are checked without a network.
final class FakeEC2: HTTPTransport {
    let handler: @Sendable (_ params: [String: String], _ request: HTTPRequest) throws(DriverError) -> HTTPResponse
    private let log = Mutex<[HTTPRequest]>([])

    init(_ handler: @escaping @Sendable (_ params: [String: String], _ request: HTTPRequest) throws(DriverError) -> HTTPResponse) {
        self.handler = handler
    }

    func send(_ request: HTTPRequest) throws(DriverError) -> HTTPResponse {
        log.withLock { $0.append(request) }
        return try handler(Self.form(request.body), request)
    }

    var requests: [HTTPRequest] { log.withLock { $0 } }
    /// The decoded parameters of every EC2 call made, in order.
    var calls: [[String: String]] { requests.filter { $0.method == "POST" }.map { Self.form($0.body) } }
    func calls(_ action: String) -> [[String: String]] { calls.filter { $0["Action"] == action } }

    static func form(_ body: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            out[kv[0]] = kv.count > 1 ? kv[1] : ""
        }
        return out
    }

    static func ok(_ xml: String) -> HTTPResponse { HTTPResponse(status: 200, body: Array(xml.utf8)) }

    static func error(_ status: Int, _ code: String, _ message: String = "test", headers: [String: String] = [:]) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: Array(Fixtures.error(code, message).utf8))
    }
}

enum TestSets {
    static let env = ["HOME": "/nonexistent"]

    static func config(_ extra: String = "") -> EC2Config {
        let json = #"{"region": "us-east-1", "endpoint": "http://127.0.0.1:9", "access_key_id": "AKIDEXAMPLE", "secret_access_key": "s3cr3t", "image": "ami-12345678""# + extra + "}"
        return try! EC2Config.parse(json, environment: env)
    }

    static func set(_ fake: FakeEC2, _ extra: String = "", setID: String = "set-1") -> EC2InstanceSet {
        let config = config(extra)
        let client = EC2Client(config: config, credentials: CredentialChain(settings: config.credentials, environment: env),
                               transport: fake, clock: { 1_440_938_160 })
        return EC2InstanceSet(setID: setID, config: config, client: client, clock: { 1_440_938_160 })
    }
}

func json(_ data: Data) -> [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }
func ids(_ data: Data) -> [String] { (json(data)["instances"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }

/// The error `body` throws, nil when it succeeds.
func failure<T>(_ body: () throws -> T) -> DriverError? {
    do { _ = try body(); return nil } catch { return error as? DriverError ?? DriverError(.internal, "not an DriverError: \(error)") }
}

/// A count shared between a test and a fake's handler (an escaping closure cannot capture a Mutex).
final class SharedCount: Sendable {
    private let value: Mutex<Int>
    init(_ start: Int = 0) { value = Mutex(start) }
    /// Adds `delta`; returns the value before.
    func add(_ delta: Int) -> Int { value.withLock { v in defer { v += delta }; return v } }
    var current: Int { value.withLock { $0 } }
}
