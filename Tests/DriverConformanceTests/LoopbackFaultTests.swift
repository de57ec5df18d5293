import Foundation
import Testing

/// The loopback driver under faults a test cannot cause in its own process: a host with no
/// file descriptor left, a host with secrets in its environment. A small C program
/// (Tests/CHarness/loopback_session.c, built here with cc) loads the driver in a process of
/// its own and runs a script of steps.
@Suite(.serialized) struct LoopbackFaultTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Builds one of Tests/CHarness with cc (a fraction of a second); `extra`: more flags and sources.
    static func program(_ name: String, extra: [String] = []) async throws -> String {
        let output = Harness.temporaryFolder() + "/" + name
        let built = try await Harness.run("/usr/bin/cc", ["-std=c11", "-Wall", "-Wextra", "-Werror", "-I", repository + "/Sources/PluginABI/include",
                                                    repository + "/Tests/CHarness/\(name).c"] + extra + ["-ldl", "-o", output])
        guard built.status == 0 else { throw HarnessError("cc: \(built.output)") }
        return output
    }

    static func sessionProgram() async throws -> String { try await program("loopback_session") }

    /// One line per step: (status, text).
    static func session(_ state: String, _ steps: [String], environment: [String: String] = [:]) async throws -> [(step: String, status: Int, text: String)] {
        let program = try await sessionProgram()
        let env = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let run = try await Harness.run(program, [Harness.buildFolder + "/libcdd_loopback.so", state] + steps, environment: env)
        guard run.status == 0 else { throw HarnessError("session \(steps): \(run.output)") }
        return run.stdout.split(separator: "\n").map { line in
            let parts = line.split(separator: " ", maxSplits: 2).map(String.init)
            return (step: parts[0], status: Int(parts[1]) ?? -1, text: parts.count > 2 ? parts[2] : "")
        }
    }

    static func sshds(_ state: String) -> [Int32] {
        Harness.processes(mentioning: state).filter { Harness.commandLine($0).hasPrefix("sshd") }
    }

    /// Issue 11, hole 3: with descriptors exhausted, destroy said "destroyed" and deleted the
    /// folder of an instance whose sshd still ran. Now it fails (transient) and keeps it.
    @Test func destroyWithoutDescriptorsFailsAndKeepsTheInstance() async throws {
        let state = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let lines = try await Self.session(state, ["create", "starve", "0", "destroy", "feed", "starve", "1", "destroy", "feed", "list"])
        defer { Task { _ = try? await Self.session(state, ["destroy"]) } }  // a defer cannot wait
        #expect(lines.map { $0.step } == ["create", "starve", "destroy", "feed", "starve", "destroy", "feed", "list"], "\(lines)")
        let id = try #require(lines.first?.text.firstMatch(of: /"id":"(lo-[0-9a-f]{12})"/)?.1).description

        // No descriptor at all: not even the set's lock, so the whole call fails, transient.
        #expect(lines[2].status == 9, "\(lines[2])")
        #expect(lines[2].text.contains("Too many open files"), "\(lines[2])")
        // One descriptor (the lock): the instance's sshd cannot be looked at, so it is not
        // reported destroyed, and its folder stays.
        #expect(lines[5].status == 0, "\(lines[5])")
        #expect(lines[5].text.contains(#""destroyed":[]"#), "\(lines[5])")
        #expect(lines[5].text.contains(#""class":"transient","id":"\#(id)""#), "\(lines[5])")
        #expect(!Self.sshds(state).isEmpty, "the sshd lives on")
        #expect(lines[7].text.contains(#""id":"\#(id)""#) && lines[7].text.contains(#""state":"running""#), "\(lines[7])")

        // With descriptors again, destroy works and leaves nothing.
        let again = try await Self.session(state, ["destroy", "list"])
        #expect(again[0].text == #"{"destroyed":["\#(id)"],"failed":[]}"#, "\(again)")
        #expect(again[1].text == #"{"instances":[]}"#, "\(again)")
        #expect(Self.sshds(state).isEmpty, "sshd left running")
    }

    /// Issue 11, hole 4: the init script (and the sshd) inherited the host's environment,
    /// secrets included.
    @Test func theInitScriptDoesNotSeeTheHostsSecrets() async throws {
        let state = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let secrets = ["CLOUD_DISPATCH_TOKEN": "cd_token_\(UInt64.random(in: 1...UInt64.max))",
                       "AWS_SECRET_ACCESS_KEY": "aws_\(UInt64.random(in: 1...UInt64.max))"]
        var environment = secrets
        environment["SESSION_INIT_SCRIPT"] = "env > $CDD_INSTANCE_ROOT/env.tmp && mv $CDD_INSTANCE_ROOT/env.tmp $CDD_INSTANCE_ROOT/init.env"
        let lines = try await Self.session(state, ["create"], environment: environment)
        defer { Task { _ = try? await Self.session(state, ["destroy"]) } }  // a defer cannot wait
        let id = try #require(lines.first?.text.firstMatch(of: /"id":"(lo-[0-9a-f]{12})"/)?.1).description
        let written = state + "/session/instances/\(id)/root/init.env"
        #expect(await Harness.eventually(30) { FileManager.default.fileExists(atPath: written) }, "the init script ran")
        let seen = try String(contentsOfFile: written, encoding: .utf8)
        #expect(seen.contains("CDD_INSTANCE_ID=\(id)") && seen.contains("PATH="), "\(seen)")
        for (name, value) in secrets {
            #expect(!seen.contains(name) && !seen.contains(value), "\(name) reached the init script")
        }
    }

    /// Issue 11 (review): two error messages were formatted from strings borrowed from a JSON
    /// object already released. The driver is built here from its sources with
    /// AddressSanitizer, which stops the process at such a read.
    @Test func errorMessagesQuoteTheRequestWithoutReadingFreedMemory() async throws {
        let state = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let loopback = Self.repository + "/Plugins/Loopback"
        let sources = try FileManager.default.contentsOfDirectory(atPath: loopback).filter { $0.hasSuffix(".c") }.map { loopback + "/" + $0 }
        let driver = Harness.temporaryFolder() + "/libcdd_loopback_asan.so"
        let built = try await Harness.run("/usr/bin/cc", ["-std=c11", "-g", "-fsanitize=address", "-shared", "-fPIC", "-Wno-unused-parameter",
                                                    "-I", Self.repository + "/Sources/PluginABI/include", "-I", loopback + "/include"]
                                                   + sources + ["-ljansson", "-o", driver])
        try #require(built.status == 0, "cc: \(built.output)")
        let program = try await Self.program("loopback_error_messages", extra: ["-g", "-fsanitize=address"])
        var environment = ProcessInfo.processInfo.environment
        environment["ASAN_OPTIONS"] = "detect_leaks=0"
        let run = try await Harness.run(program, [driver, state], environment: environment)
        #expect(run.status == 0, "\(run.output)")
        #expect(!run.output.contains("AddressSanitizer"), "\(run.output)")
        #expect(run.stdout.contains(#"open_set 1 config: unknown key "colour_of_the_instances""#), "\(run.stdout)")
        #expect(run.stdout.contains(#"quota_group 1 provider_type: unknown type "no-such-type-anywhere""#), "\(run.stdout)")
    }
}
