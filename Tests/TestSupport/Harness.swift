import Foundation

/// Helpers for tests that run real programs: the built executables, sshd, the daemon.
public enum Harness {
    /// Where the build put the executables and drivers: the folder of the test executable,
    /// unless CLOUD_DISPATCH_BUILD_DIR says otherwise.
    public static var buildFolder: String {
        if let dir = ProcessInfo.processInfo.environment["CLOUD_DISPATCH_BUILD_DIR"] { return dir }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }

    public static var cloudDispatch: String { buildFolder + "/cloud-dispatch" }

    /// A new private temporary folder.
    public static func temporaryFolder() -> String {
        // NSTemporaryDirectory() ends with "/": no "//" in paths that tests compare.
        let base = NSTemporaryDirectory().hasSuffix("/") ? String(NSTemporaryDirectory().dropLast()) : NSTemporaryDirectory()
        var template = Array((base + "/cdd-test-XXXXXX").utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    /// Pids of processes whose command line mentions `text`.
    public static func processes(mentioning text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let cmdline = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return cmdline.contains(text)
        }
    }

    /// A process's command line, arguments joined by spaces ("" when it is gone).
    public static func commandLine(_ pid: Int32) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    /// A process's parent (0 when it is gone).
    public static func parent(of pid: Int32) -> Int32 {
        guard let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return 0 }
        let text = String(decoding: stat, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) ?? 0 : 0
    }

    /// Every process below `pid` (children, their children …), from /proc.
    public static func descendants(of pid: Int32) -> [Int32] {
        var parent: [Int32: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = Int32(entry), let stat = FileManager.default.contents(atPath: "/proc/\(entry)/stat") else { continue }
            // "pid (comm) state ppid …": comm may hold spaces, so read after the last ')'.
            let text = String(decoding: stat, as: UTF8.self)
            guard let close = text.lastIndex(of: ")") else { continue }
            let fields = text[text.index(after: close)...].split(separator: " ")
            if fields.count > 1, let ppid = Int32(fields[1]) { parent[child] = ppid }
        }
        var found: [Int32] = []
        var frontier = [pid]
        while let p = frontier.popLast() {
            let children = parent.filter { $0.value == p }.map(\.key)
            found += children
            frontier += children
        }
        return found
    }

    /// Runs a program to completion. `output` is standard output then standard error.
    @discardableResult
    public static func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil)
        async throws -> (status: Int32, output: String, stdout: String)
    {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Files, not pipes: a full pipe nobody reads would block the child.
        let out = open(folder + "/out", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        let err = open(folder + "/err", O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        defer {
            close(out)
            close(err)
        }
        let process = try ChildProcess(path, arguments, environment: environment, output: out, errors: err)
        let status = await process.exit()
        let stdout = (try? String(contentsOfFile: folder + "/out", encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: folder + "/err", encoding: .utf8)) ?? ""
        return (status, stdout + stderr, stdout)
    }

    /// A fresh ed25519 key pair; returns the private key's path and the public key line.
    public static func sshKey(in folder: String) async throws -> (path: String, publicKey: String) {
        let path = folder + "/id_ed25519"
        let result = try await run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path])
        guard result.status == 0 else { throw HarnessError("ssh-keygen: \(result.output)") }
        let publicKey = try String(contentsOfFile: path + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return (path, publicKey)
    }

    /// The port a `cloud-dispatch serve` started with `--listen 127.0.0.1:0` reports in its log
    /// (`msg=listening address=http://127.0.0.1:PORT`), nil until it has.
    public static func listeningPort(inLog log: String) -> Int? {
        for line in log.split(separator: "\n") where line.contains("listening") {
            guard let range = line.range(of: "http://127.0.0.1:") else { continue }
            let digits = line[range.upperBound...].prefix { $0.isNumber }
            if let port = Int(digits), port > 0 { return port }
        }
        return nil
    }

    /// Waits (bounded) for a daemon logging to `logFile` to report its port.
    public static func listeningPort(logFile: String, seconds: Double = 60) async -> Int? {
        let read = { listeningPort(inLog: (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "") }
        return await eventually(seconds) { read() != nil } ? read() : nil
    }

    /// Polls `condition` every 20 ms for up to `seconds`.
    public static func eventually(_ seconds: Double = 30, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await condition()
    }
}

public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
