import DriverSupport
import Foundation
import GCECore
import Synchronization
import TestSupport

/// The fake Compute Engine (Tests/gce/fake_gce.py) the scenario tests talk to: started once
/// per test process with a throwaway service-account key, and gone when the process ends
/// (it exits when its standard input closes). Never skipped: if it cannot run, tests fail.
struct FakeGCE: Sendable {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    private static let shared = Mutex<FakeGCE?>(nil)
    private static let keep = Mutex<[Int32]>([])

    let url: String
    let keyFile: String
    let control = CurlTransport(connectTimeoutMs: 5_000, caBundle: nil)

    static func start() throws -> FakeGCE {
        try shared.withLock { fake in
            if let fake { return fake }
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cdd-gce-\(getpid())").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let key = dir + "/key.json"
            // token_uri is replaced by the driver's config.token_uri once the fake's port is known
            let keygen = try ChildProcess("/usr/bin/env", ["python3", repo.appendingPathComponent("Tests/gce/keys.py").path, key, "http://127.0.0.1:1/token"])
            keygen.waitUntilExit()
            guard keygen.terminationStatus == 0 else { throw FakeError("Tests/gce/keys.py failed") }
            let input = ChildProcess.pipe(), output = ChildProcess.pipe()
            _ = try ChildProcess("/usr/bin/env", ["python3", repo.appendingPathComponent("Tests/gce/fake_gce.py").path, "--service-account", key,
                                                  "--delete-delay", "0.5"],
                                 input: input.read.fileDescriptor, output: output.write)
            close(output.write)
            keep.withLock { $0.append(input.write) }  // open until this process exits
            var line = Data()
            while true {
                let byte = output.read.readData(ofLength: 1)
                if byte.isEmpty || byte == Data("\n".utf8) { break }
                line += byte
            }
            let url = String(decoding: line, as: UTF8.self)
            guard url.hasPrefix("http://") else { throw FakeError("fake_gce.py printed no URL (got \"\(url)\")") }
            fake = FakeGCE(url: url, keyFile: key)
            return fake!
        }
    }

    func config(_ extra: String = "") -> String {
        #"{"project": "p1", "zones": ["us-central1-a", "us-central1-b"], "api_root": "\#(url)/compute/v1/", "credentials_file": "\#(keyFile)", "token_uri": "\#(url)/token", "image": "projects/debian-cloud/global/images/family/debian-12", "operation_timeout": 20\#(extra)}"#
    }

    func open(_ extra: String = "", setID: String = "s1") throws -> GCEInstanceSet {
        try GCEInstanceSet.open(setID: setID, config: config(extra), environment: [:])
    }

    @discardableResult
    func post(_ path: String, _ body: String = "{}") throws -> JSONValue {
        let r = try control.send(HTTPRequest(method: "POST", url: url + path, headers: [("Content-Type", "application/json")], body: Array(body.utf8)))
        return JSONValue.parse(r.body) ?? .null
    }

    func stats() throws -> JSONValue { JSONValue.parse(try control.send(HTTPRequest(method: "GET", url: url + "/_fake/stats")).body) ?? .null }
    func reset() throws { try post("/_fake/reset") }
    func faults(_ json: String) throws { try post("/_fake/faults", json) }
    func calls(_ method: String) throws -> Int { Int(try stats()["calls"][method].int ?? 0) }
}

struct FakeError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
