import DriverSupport
import Foundation
import GCECore
import Synchronization

/// A transport that answers from a script and records every request: request shapes and
/// error handling are checked without a network.
final class Recorder: HTTPTransport {
    typealias Answer = @Sendable (HTTPRequest) throws(DriverError) -> HTTPResponse
    private let answer: Answer
    let requests = Mutex<[HTTPRequest]>([])

    init(_ answer: @escaping Answer) { self.answer = answer }

    func send(_ request: HTTPRequest) throws(DriverError) -> HTTPResponse {
        requests.withLock { $0.append(request) }
        return try answer(request)
    }

    var sent: [HTTPRequest] { requests.withLock { $0 } }
    /// Method and path (after the project) of every API request, in order.
    var calls: [String] {
        sent.filter { $0.url.contains("/compute/v1/") }.map { r in
            let path = r.url.components(separatedBy: "/projects/p1/").last!.components(separatedBy: "?")[0]
            return "\(r.method) \(path)"
        }
    }
}

func json(_ status: Int, _ body: String, headers: [String: String] = [:]) -> HTTPResponse {
    HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
}

/// A token source that counts its fetches.
final class CountingTokens: TokenSource {
    let fetches = Mutex(0)
    let lifetime: Int
    init(lifetime: Int = 3600) { self.lifetime = lifetime }
    var name: String { "test tokens" }
    func fetch() throws(DriverError) -> (token: String, expiresIn: Int) {
        let n = fetches.withLock { $0 += 1; return $0 }
        return ("token-\(n)", lifetime)
    }
}

/// An instance set on a scripted transport.
func makeSet(config: String = #"{"project": "p1", "zones": ["us-central1-a", "us-central1-b"], "image": "img", "api_root": "http://api/compute/v1/"}"#,
             tokens: CountingTokens = CountingTokens(), _ answer: @escaping Recorder.Answer) throws -> (GCEInstanceSet, Recorder) {
    let recorder = Recorder(answer)
    let parsed = try GCEConfig.parse(config)
    let client = GCEClient(config: parsed, project: "p1", token: CachedToken(source: tokens), transport: recorder)
    return (GCEInstanceSet(setID: "s1", config: parsed, client: client), recorder)
}

func instanceJSON(zone: String, name: String, status: String = "RUNNING", labels: [String: String] = [:], ip: String = "10.0.0.2",
                  set: String? = "s1") -> String {
    var labels = labels
    if let set { labels[Labels.setKey] = Labels.setValue(set) }
    let l = labels.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ",")
    return #"{"name": "\#(name)", "zone": "http://api/compute/v1/projects/p1/zones/\#(zone)", "machineType": "zones/\#(zone)/machineTypes/e2-micro", "status": "\#(status)", "labels": {\#(l)}, "labelFingerprint": "fp1", "networkInterfaces": [{"networkIP": "\#(ip)"}], "creationTimestamp": "2026-11-29T02:00:00.000-08:00"}"#
}

func operation(zone: String, status: String = "DONE", error: String? = nil) -> String {
    let e = error.map { #", "error": {"errors": [{"code": "\#($0)", "message": "\#($0) in \#(zone)"}]}, "httpErrorStatusCode": 503"# } ?? ""
    return #"{"name": "op-1", "zone": "http://api/compute/v1/projects/p1/zones/\#(zone)", "status": "\#(status)"\#(e)}"#
}

func createRequest(count: Int, token: String? = "tok-1", preemptible: Bool = false, tags: [String: String] = ["cloud-dispatch-instance-set": "s1"]) -> Data {
    let t = tags.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ",")
    let tok = token.map { #", "idempotency_token": "\#($0)""# } ?? ""
    return Data(##"{"instance_type": {"name": "t", "provider_type": "e2-micro", "vcpus": 2, "ram": 1073741824, "preemptible": \##(preemptible), "price": 0.01, "added_scratch": 5368709120}, "tags": {\##(t)}, "count": \##(count), "init_script": "#!/bin/sh\necho hi", "ssh_public_key": "ssh-ed25519 AAAAC3 cd"\##(tok)}"##.utf8)
}

/// A counter a scripted answer can keep (closures cannot capture a Mutex itself).
final class Counter: Sendable {
    private let value = Mutex(0)
    /// The count before this call.
    func next() -> Int { value.withLock { v in defer { v += 1 }; return v } }
}
