import APIClient
import Foundation
import TestSupport
import Testing

/// `drivers`, `driver-test` and `drivers install|remove` as an operator runs them, with bad
/// files in the plugins folder: each is refused by name and cause, and the command carries on.
@Suite(.serialized) struct DriverLoadingCommandTests {  // waits on CLI processes synchronously
    static var executable: String { Harness.cloudDispatch }

    func pluginsFolder(_ files: [(String, String)]) throws -> String {
        let folder = Harness.temporaryFolder()
        for (product, name) in files {
            try FileManager.default.copyItem(atPath: Harness.buildFolder + "/" + product, toPath: folder + "/" + name)
            chmod(folder + "/" + name, 0o755)
        }
        return folder
    }

    static let badFiles = [("libfixture_abort_load.so", "libcdd_abort.so"), ("libfixture_block_negotiate.so", "libcdd_hang.so")]

    @Test func driversListsTheGoodDriversAndNamesEachBadFile() async throws {
        let folder = try pluginsFolder([("libcdd_loopback.so", "libcdd_loopback.so")] + Self.badFiles)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try await Harness.run(Self.executable, ["drivers", "--json", "--plugins", folder, "--load-timeout", "2"])
        #expect(result.status == 0, "\(result.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((json["drivers"] as? [[String: Any]])?.map { $0["id"] as? String } == ["loopback"])
        let refused = try #require(json["refused"] as? [[String: String]])
        #expect(refused == [
            ["path": folder + "/libcdd_abort.so", "reason": "killed by SIGABRT while loading"],
            ["path": folder + "/libcdd_hang.so", "reason": "cdd_negotiate did not return within 2 s"],
        ])
    }

    @Test func driversShowsALinksRealFileAndRefusesALinkIntoAnOpenFolder() async throws {
        let outside = try pluginsFolder([("libcdd_loopback.so", "libcdd_loopback.so")])
        let open = try pluginsFolder([("libcdd_sim.so", "libcdd_sim.so")])
        chmod(open, 0o777)
        let plugins = Harness.temporaryFolder()
        defer { for f in [outside, open, plugins] { try? FileManager.default.removeItem(atPath: f) } }
        try FileManager.default.createSymbolicLink(atPath: plugins + "/libcdd_loopback.so", withDestinationPath: outside + "/libcdd_loopback.so")
        try FileManager.default.createSymbolicLink(atPath: plugins + "/libcdd_sim.so", withDestinationPath: open + "/libcdd_sim.so")
        let result = try await Harness.run(Self.executable, ["drivers", "--json", "--plugins", plugins])
        #expect(result.status == 0, "\(result.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let drivers = try #require(json["drivers"] as? [[String: Any]])
        #expect(drivers.map { $0["id"] as? String } == ["loopback"])
        #expect(drivers.first?["path"] as? String == plugins + "/libcdd_loopback.so")
        #expect(drivers.first?["real_path"] as? String == outside + "/libcdd_loopback.so")
        #expect(json["refused"] as? [[String: String]] == [[
            "path": plugins + "/libcdd_sim.so",
            "reason": "links to \(open)/libcdd_sim.so, whose folder \(open) is writable by group or others (mode 0777); run chmod go-w",
        ]])
        let table = try await Harness.run(Self.executable, ["drivers", "--plugins", plugins])
        #expect(table.stdout.contains("\(plugins)/libcdd_loopback.so -> \(outside)/libcdd_loopback.so"), "\(table.output)")
    }

    @Test func driverTestIsNotKilledByAFileItWasNotAskedToUse() async throws {
        let folder = try pluginsFolder([("libfixture_misbehave.so", "libcdd_misbehave.so")] + Self.badFiles)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #"{"mode": "ok"}"#.write(toFile: folder + "/c.json", atomically: true, encoding: .utf8)
        let result = try await Harness.run(Self.executable, ["driver-test", "--plugins", folder, "--driver", "misbehave", "--config", folder + "/c.json",
                                                       "--load-timeout", "2", "--settle", "1"])
        #expect(result.status == 0 || result.status == 1, "\(result.output)")  // the kit's verdict, not a crash
        #expect(result.output.contains("PASS capabilities"), "\(result.output)")
    }

    @Test func installVetsCopiesAndSaysWhatItReplaced() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = Harness.buildFolder + "/libfixture_misbehave.so"
        let first = try await Harness.run(Self.executable, ["drivers", "install", source, "--plugins", folder])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.stdout == "installed misbehave 0.0.1 (ABI 1.0) as \(folder)/libcdd_misbehave.so\n")
        var info = stat()
        #expect(stat(folder + "/libcdd_misbehave.so", &info) == 0 && info.st_mode & 0o777 == 0o755)
        let again = try await Harness.run(Self.executable, ["drivers", "install", source, "--plugins", folder])
        #expect(again.stdout == "installed misbehave 0.0.1 (ABI 1.0) as \(folder)/libcdd_misbehave.so, replacing misbehave 0.0.1\n")
        // A bad file is refused and leaves nothing behind.
        let bad = try await Harness.run(Self.executable, ["drivers", "install", Harness.buildFolder + "/libfixture_abort_load.so", "--plugins", folder])
        #expect(bad.status == 1)
        #expect(bad.output.contains("refused: libfixture_abort_load.so: killed by SIGABRT while loading"), "\(bad.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["libcdd_misbehave.so"])
        let removed = try await Harness.run(Self.executable, ["drivers", "remove", "misbehave", "--plugins", folder])
        #expect(removed.stdout == "removed \(folder)/libcdd_misbehave.so\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        let missing = try await Harness.run(Self.executable, ["drivers", "remove", "misbehave", "--plugins", folder])
        #expect(missing.status == 1)
        #expect(missing.output.contains("cannot remove \(folder)/libcdd_misbehave.so: No such file or directory"))
    }

    @Test func installRefusesAFolderOthersMayWrite() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        chmod(folder, 0o777)
        let result = try await Harness.run(Self.executable, ["drivers", "install", Harness.buildFolder + "/libfixture_misbehave.so", "--plugins", folder])
        #expect(result.status == 1)
        #expect(result.output.contains("plugins folder \(folder) refused: writable by group or others (mode 0777)"), "\(result.output)")
    }

    /// check-config opens the driver exactly as serve does.
    func writeConfig(_ folder: String, plugins: String, driver: String) throws -> String {
        let path = folder + "/config.yml"
        try """
            state_dir: \(folder)/state
            driver: \(driver)
            instance_types: [{name: s, provider_type: sim.small, vcpus: 2, ram: 4GiB, price: 0.1}]
            """.replacingOccurrences(of: "PLUGINS", with: plugins).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func checkConfigIsNotHeldUpByAHangingFileBesideItsDriver() async throws {
        let plugins = try pluginsFolder([("libcdd_sim.so", "libcdd_sim.so")] + Self.badFiles)
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        let config = try writeConfig(plugins, plugins: plugins, driver: "{name: sim, plugins: PLUGINS, load_timeout: 2}")
        let run = try await Harness.run(Self.executable, ["check-config", config])
        #expect(run.status == 0, "\(run.output)")
    }

    @Test func checkConfigOpensAnIsolatedDriverThroughItsProcess() async throws {
        let plugins = try pluginsFolder([("libcdd_sim.so", "libcdd_sim.so")])
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        let good = try writeConfig(plugins, plugins: plugins, driver: "{name: sim, plugins: PLUGINS, isolation: process}")
        let ok = try await Harness.run(Self.executable, ["check-config", good])
        #expect(ok.status == 0, "\(ok.output)")
        // The driver's own refusal crosses the pipe intact.
        let bad = try writeConfig(plugins, plugins: plugins, driver: """
            {name: sim, plugins: PLUGINS, isolation: process,
                     config: {instance_types: [{provider_type: sim.small, vcpus: 2, ram: 4294967296, spot_prise: 0.1}]}}
            """)
        let refused = try await Harness.run(Self.executable, ["check-config", bad])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("driver.config: the sim driver refused its configuration (invalid): config.instance_types[0]: unknown key \"spot_prise\""),
                "\(refused.output)")
    }

    /// `driver.call_timeout` is what serve waits for one driver call: a driver that takes 4 s a
    /// call is given up on at 1 s (the default would wait 120 s), and the round goes on.
    @Test func serveGivesUpOnADriverCallAtTheConfiguredCallTimeout() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugins = try pluginsFolder([("libfixture_misbehave.so", "libcdd_misbehave.so")])
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        let config = try writeConfig(folder, plugins: plugins, driver: """
            {name: misbehave, plugins: PLUGINS, call_timeout: 1s, config: {mode: sleep, sleep_ms: 4000}}
            """)
        let daemon = try Daemon(stateDir: folder + "/state", extra: ["--config", config], dispatch: true)
        defer { daemon.stopWithoutWaiting() }
        #expect(await Harness.eventually(90) { daemon.log.contains("no reply within 1.0 seconds") }, "\(daemon.log.suffix(3000))")
    }

    @Test func sighupVetsDriverFilesAddedReplacedOrRemoved() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugins = try pluginsFolder([("libcdd_loopback.so", "libcdd_loopback.so")])
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        let config = try writeConfig(folder, plugins: plugins, driver: "{name: loopback, plugins: PLUGINS, load_timeout: 2}")
        let daemon = try Daemon(stateDir: folder + "/state", extra: ["--config", config])
        defer { daemon.stopWithoutWaiting() }
        guard await daemon.ready() else { throw HarnessError("daemon did not start: \(daemon.log)") }
        for (product, name) in [("libfixture_misbehave.so", "libcdd_misbehave.so"), ("libfixture_abort_load.so", "libcdd_abort.so")] {
            try FileManager.default.copyItem(atPath: Harness.buildFolder + "/" + product, toPath: plugins + "/" + name)
            chmod(plugins + "/" + name, 0o755)
        }
        try FileManager.default.removeItem(atPath: plugins + "/libcdd_loopback.so")
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(await Harness.eventually(30) { daemon.log.contains("driver file refused") && daemon.log.contains("driver file vetted") },
                "\(daemon.log)")
        let log = daemon.log
        #expect(log.contains("msg=\"driver file removed\" path=\(plugins)/libcdd_loopback.so"), "\(log)")
        #expect(log.contains("path=\(plugins)/libcdd_misbehave.so"))
        #expect(log.contains("driver=misbehave"))
        #expect(log.contains("path=\(plugins)/libcdd_abort.so reason=\"killed by SIGABRT while loading\""), "\(log)")
        #expect(daemon.process.isRunning)
    }

    @Test func serveWithAnIsolatedDriverSurvivesItsCrashAndShowsIt() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugins = try pluginsFolder([("libcdd_sim.so", "libcdd_sim.so")] + Self.badFiles)
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        let config = try writeConfig(folder, plugins: plugins, driver: "{name: sim, plugins: PLUGINS, isolation: process, load_timeout: 2}")
        let daemon = try Daemon(stateDir: folder + "/state", extra: ["--config", config], dispatch: true)
        defer { daemon.stopWithoutWaiting() }
        // A hanging and an aborting file beside the driver: refused, and serve still listens.
        guard await daemon.ready() else { throw HarnessError("daemon did not start: \(daemon.log)") }
        #expect(daemon.log.contains("reason=\"cdd_negotiate did not return within 2 s\""), "\(daemon.log)")
        let client = APIClient(server: URL(string: daemon.url)!, token: nil)
        func health() async throws -> [String: String] {
            let (_, body) = try await client.raw("GET", "/_health")
            return try JSONSerialization.jsonObject(with: body) as? [String: String] ?? [:]
        }
        #expect(try await health()["driver_process"] == "ok")
        let driverProcess = try #require(Harness.processes(mentioning: "driver-process").first { Harness.commandLine($0).contains(plugins) })
        kill(driverProcess, SIGSEGV)
        #expect(await Harness.eventually(30) {
            let shown = (try? await health())?["driver_process"] ?? ""
            return shown.hasPrefix("ok, died 1 time, last: killed by SIGSEGV")
        })
        let (_, metrics) = try await client.raw("GET", "/metrics")
        #expect(String(decoding: metrics, as: UTF8.self).contains("cloud_dispatch_driver_process_crashes_total{file=\"libcdd_sim.so\"} 1"))
        #expect(daemon.log.contains("msg=\"driver process died\""))
        #expect(daemon.process.isRunning)
    }
}

