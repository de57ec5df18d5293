import Foundation
import Testing
import TestSupport

/// `serve` with `executor:`: the backend is looked up in the plugins folder, and a missing one is
/// named with those found; `executor:` and `driver:` together are refused before anything starts.
@Suite struct ExecutorServeTests {
    @Test func serveNamesAMissingExecutorBackendAndThoseFound() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugins = folder + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        let config = folder + "/config.yml"
        try "state_dir: \(folder)/state\nexecutor: {name: nosuch, plugins: \(plugins)}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let run = try await Harness.run(Harness.cloudDispatch, ["serve", "--config", config, "--listen", "127.0.0.1:0"])
        #expect(run.status == 1)
        #expect(run.output.contains("executor.name"), "\(run.output)")
        #expect(run.output.contains("no executor backend \"nosuch\" (libcdx_nosuch.so) in \(plugins)"), "\(run.output)")
        #expect(run.output.contains("executor backends found: none"), "\(run.output)")
    }

    @Test func checkConfigRefusesDriverAndExecutorTogether() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = folder + "/config.yml"
        try "state_dir: \(folder)/state\ndriver: {name: loopback}\nexecutor: {name: slurm}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let run = try await Harness.run(Harness.cloudDispatch, ["check-config", config])
        #expect(run.status != 0)
        #expect(run.output.contains("executor: driver and executor are both set"), "\(run.output)")
    }
}
