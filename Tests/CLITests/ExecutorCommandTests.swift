import Foundation
import TestSupport
import Testing

/// `cloud-dispatch drivers` and `executor-test` with executor backends, as an operator runs them.
@Suite struct ExecutorCommandTests {
    static var executable: String { Harness.cloudDispatch }

    func pluginsFolder() throws -> String {
        let folder = Harness.temporaryFolder()
        for (product, name) in [("libcdd_loopback.so", "libcdd_loopback.so"), ("libfixture_executor.so", "libcdx_memexec.so")] {
            try FileManager.default.copyItem(atPath: Harness.buildFolder + "/" + product, toPath: folder + "/" + name)
            chmod(folder + "/" + name, 0o755)
        }
        return folder
    }

    @Test func driversListsBothKinds() async throws {
        let folder = try pluginsFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try await Harness.run(Self.executable, ["drivers", "--json", "--plugins", folder])
        #expect(result.status == 0, "\(result.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let loaded = try #require(json["drivers"] as? [[String: Any]])
        #expect(loaded.map { "\($0["kind"] ?? "") \($0["id"] ?? "")" } == ["driver loopback", "executor memexec"])
        #expect((loaded.last?["capabilities"] as? [String: Any])?["idempotent_submit"] as? Bool == true)
        let table = try await Harness.run(Self.executable, ["drivers", "--plugins", folder])
        #expect(table.stdout.contains("KIND"), "\(table.output)")
        #expect(table.stdout.split(separator: "\n").contains { $0.hasPrefix("executor") && $0.contains("memexec") }, "\(table.output)")
    }

    @Test func executorTestCertifiesTheFixtureAndExplainsAMissingBackend() async throws {
        let folder = try pluginsFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "{}".write(toFile: folder + "/c.json", atomically: true, encoding: .utf8)
        let result = try await Harness.run(Self.executable, ["executor-test", "--plugins", folder, "--executor", "memexec", "--config", folder + "/c.json"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.hasPrefix("executor memexec\n"), "\(result.output)")
        #expect(result.stdout.contains("14 passed, 0 failed, 0 skipped"), "\(result.output)")
        let missing = try await Harness.run(Self.executable, ["executor-test", "--plugins", folder, "--executor", "slurm", "--config", folder + "/c.json"])
        #expect(missing.status == 2)
        #expect(missing.output.contains("no executor backend \"slurm\" in \(folder) (loaded: memexec)"), "\(missing.output)")
        try #"{"mode": "cancel_ignored"}"#.write(toFile: folder + "/bad.json", atomically: true, encoding: .utf8)
        let failing = try await Harness.run(Self.executable, ["executor-test", "--plugins", folder, "--executor", "memexec",
                                                        "--config", folder + "/bad.json",
                                                        "--settle", "1", "--cleanup-deadline", "1"])
        #expect(failing.status == 1, "\(failing.output)")
        #expect(failing.stdout.contains("FAIL    cancel a running job"), "\(failing.output)")
        #expect(failing.output.contains("leftover job memexec-"), "\(failing.output)")
    }

    @Test func installAndRemoveAnExecutorFile() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: source) }
        try FileManager.default.copyItem(atPath: Harness.buildFolder + "/libfixture_executor.so", toPath: source + "/libcdx_new.so")
        let installed = try await Harness.run(Self.executable, ["drivers", "install", source + "/libcdx_new.so", "--plugins", folder])
        #expect(installed.status == 0, "\(installed.output)")
        #expect(installed.stdout.contains("installed memexec 0.0.1 (ABI 1.0) as \(folder)/libcdx_memexec.so"), "\(installed.output)")
        let removed = try await Harness.run(Self.executable, ["drivers", "remove", "memexec", "--plugins", folder])
        #expect(removed.status == 0 && removed.stdout.contains("removed \(folder)/libcdx_memexec.so"), "\(removed.output)")
    }
}
