import DriverHost
import Foundation
import Logging

/// Helpers for tests that run real drivers and real sshd processes.
enum Harness {
    static var buildFolder: String {
        ProcessInfo.processInfo.environment["CLOUD_DISPATCH_BUILD_DIR"] ?? PluginsFolder.executableFolder()
    }

    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// A private temporary folder.
    static func temporaryFolder() -> String {
        var template = Array((NSTemporaryDirectory() + "/cdd-kit-XXXXXX").utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    /// Loads one build product as a driver, from a private plugins folder.
    static func load(_ product: String, as name: String, timeout: Duration = .seconds(30)) throws -> NativeDriver {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: buildFolder + "/" + product, toPath: folder + "/" + name)
        chmod(folder + "/" + name, 0o755)
        let loader = DriverLoader(pool: BlockingPool(name: "kit-test", threads: 8), logger: quiet, callTimeout: timeout)
        let report = loader.loadNow(folder: folder)
        guard let driver = report.drivers.first else { throw HarnessError("not loaded: \(report.refused)") }
        return driver
    }

    static func loopback() throws -> NativeDriver { try load("libcdd_loopback.so", as: "libcdd_loopback.so") }

    /// Pids of processes whose command line mentions `text`.
    static func processes(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let cmdline = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return cmdline.contains(text)
        }
    }

    /// Runs a program to completion. `output` is standard output then standard error.
    @discardableResult
    static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String, stdout: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Files, not pipes: a full pipe nobody reads would block the child.
        _ = FileManager.default.createFile(atPath: folder + "/out", contents: nil)
        _ = FileManager.default.createFile(atPath: folder + "/err", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: folder + "/out")
        process.standardError = FileHandle(forWritingAtPath: folder + "/err")
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let out = (try? String(contentsOfFile: folder + "/out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: folder + "/err", encoding: .utf8)) ?? ""
        return (process.terminationStatus, out + err, out)
    }

    /// A fresh ed25519 key pair; returns the private key's path and the public key line.
    static func sshKey(in folder: String) throws -> (path: String, publicKey: String) {
        let path = folder + "/id_ed25519"
        let result = try run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path])
        guard result.status == 0 else { throw HarnessError("ssh-keygen: \(result.output)") }
        let publicKey = try String(contentsOfFile: path + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return (path, publicKey)
    }

    /// Polls `condition` every 20 ms for up to `seconds`.
    static func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let smallType = InstanceTypeSpec(name: "local", providerType: "local", vcpus: 1, ram: 1 << 30, price: 0)
