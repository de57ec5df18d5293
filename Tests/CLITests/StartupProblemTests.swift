import Foundation
import Testing
import TestSupport

/// What `serve` would meet at start-up, found by `check-config` first; and `serve`'s own
/// start-up errors naming the setting and where it was set, in plain words (issue 11).
@Suite(.serialized) struct StartupProblemTests {
    final class Folder {
        let path = Harness.temporaryFolder()
        var config: String { path + "/config.yml" }

        /// Writes config.yml: `yaml`, after a state_dir in this folder unless `yaml` gives one.
        func write(_ yaml: String) throws {
            let text = (yaml.contains("state_dir:") ? "" : "state_dir: \(path)/state\n") + yaml
            try text.write(toFile: config, atomically: true, encoding: .utf8)
        }

        /// `temporaryFolder`: the TMPDIR it runs with (nil: this process's).
        func checkConfig(temporaryFolder: String? = nil) async throws -> (status: Int32, output: String, stdout: String) {
            let environment = temporaryFolder.map { ProcessInfo.processInfo.environment.merging(["TMPDIR": $0]) { $1 } }
            return try await Harness.run(Harness.cloudDispatch, ["check-config", config], environment: environment)
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test func checkConfigRefusesAnUnknownDriverConfigKey() async throws {
        let f = Folder()
        try f.write("driver: {name: loopback, config: {state_dir: lb, colour: blue}}")
        let run = try await f.checkConfig()
        #expect(run.status == 1)
        #expect(run.stdout.contains("\(f.config): driver.config: the loopback driver refused its configuration (invalid): config: unknown key \"colour\""),
                "\(run.output)")
    }

    @Test func checkConfigRefusesAnUnknownSimConfigKey() async throws {
        let f = Folder()
        try f.write("""
            driver: {name: sim, config: {instance_types: [{provider_type: sim.small, vcpus: 2, ram: 4294967296, spot_prise: 0.1}]}}
            instance_types: [{name: s, provider_type: sim.small, vcpus: 2, ram: 4GiB, price: 0.1}]
            """)
        let run = try await f.checkConfig()
        #expect(run.status == 1)
        #expect(run.stdout.contains("driver.config: the sim driver refused its configuration (invalid): config.instance_types[0]: unknown key \"spot_prise\""),
                "\(run.output)")
    }

    @Test func checkConfigNamesATypeTheCatalogueDoesNotOffer() async throws {
        let f = Folder()
        try f.write("""
            driver: {name: sim}
            instance_types: [{name: ok, provider_type: sim.small, vcpus: 2, ram: 4GiB, price: 0.1},
                             {name: local-small, vcpus: 1, ram: 1GiB, price: 0.01}]
            """)
        let run = try await f.checkConfig()
        #expect(run.status == 1)
        #expect(run.stdout.contains("\(f.config): instance_types[1].provider_type: \"local-small\" (local-small) is not in the sim driver's catalogue (offered: sim.large, sim.small)"),
                "\(run.output)")
        #expect(!run.stdout.contains("instance_types[0]"))

        // A type the file got wrong is not read: the catalogue is not checked against indexes that moved.
        try f.write("""
            driver: {name: sim}
            instance_types: [{name: a, vcpus: 1, ram: 1GiB}, {name: b, provider_type: x, vcpus: 1, ram: 1GiB, price: 1}]
            """)
        let wrong = try await f.checkConfig()
        #expect(wrong.stdout.contains("instance_types[0].price: missing"), "\(wrong.output)")
        #expect(!wrong.stdout.contains("instance_types[0].provider_type"), "\(wrong.output)")
    }

    /// examples/local.yml's alternative: a loopback config giving only state_dir.
    @Test func aLoopbackConfigWithOnlyAStateDirPasses() async throws {
        let f = Folder()
        try f.write("driver: {name: loopback, config: {state_dir: lb}}")
        let run = try await f.checkConfig()
        #expect(run.status == 0, "\(run.output)")
    }

    @Test func checkConfigLeavesNoDriverStateBehind() async throws {
        let f = Folder()
        try f.write("driver: {name: loopback, config: {state_dir: lb}}")
        // A TMPDIR of its own: the shared one also holds the throwaway folders of check-config
        // runs in other tests and on other suites of this machine, which come and go meanwhile.
        let tmp = f.path + "/tmp"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: false)
        #expect(try await f.checkConfig(temporaryFolder: tmp).status == 0)
        #expect(!FileManager.default.fileExists(atPath: f.path + "/lb"), "the driver's state folder was made")
        #expect(!FileManager.default.fileExists(atPath: f.path + "/state"), "the state folder was made")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp) == [], "a throwaway folder was left")
    }

    @Test func checkConfigChecksTheStateFolder() async throws {
        let f = Folder()
        let file = f.path + "/afile"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        try f.write("state_dir: \(file)")
        let run = try await f.checkConfig()
        #expect(run.status == 1)
        #expect(run.stdout.contains("\(f.config): state_dir: \(file) is a file, not a folder"), "\(run.output)")
        #expect(run.stdout.hasSuffix("1 problem\n"), "one cause, one line: \(run.output)")

        try f.write("driver: {config: {state_dir: afile/lb}}")
        #expect(try await f.checkConfig().stdout.contains("driver.config.state_dir: \(file)/lb cannot be made: \(file) is a file, not a folder"))

        try f.write("state_dir: \(file)/below")
        #expect(try await f.checkConfig().stdout.contains("state_dir: \(file)/below cannot be made: \(file) is a file, not a folder"))

        try f.write("state_dir: /proc/self/cloud-dispatch")
        #expect(try await f.checkConfig().stdout.contains("state_dir: /proc/self/cloud-dispatch is under /proc, a kernel file system"))
    }

    @Test func checkConfigConnectsToPostgreSQL() async throws {
        let f = Folder()
        try f.write("queue: {store: \"postgres://cd:hunter2secret@127.0.0.1:5432/q?sslmode=sometimes\"}")
        let bad = try await f.checkConfig()
        #expect(bad.stdout.contains("queue.store: database URL sslmode must be disable, prefer or require"), "\(bad.output)")

        let refusing = try BoundPort(listening: false)  // bound, not listening: connecting is refused
        defer { withExtendedLifetime(refusing) {} }
        let port = refusing.port
        try f.write("queue: {store: \"postgres://cd:hunter2secret@127.0.0.1:\(port)/q?sslmode=disable\"}")
        let run = try await f.checkConfig()
        #expect(run.status == 1)
        #expect(run.stdout.contains("queue.store: cannot connect to queue database postgres://cd:***@127.0.0.1:\(port)/q?sslmode=disable: connection refused"),
                "\(run.output)")
        #expect(!run.output.contains("hunter2secret"))
    }

    /// Against the test server (`make swift-test` starts one; it has no TLS).
    @Test(.enabled(if: PostgresScratch.serverURL != nil)) func checkConfigConnectsToARunningPostgreSQL() async throws {
        let f = Folder()
        let url = try #require(PostgresScratch.serverURL)
        try f.write("queue: {store: \"\(url)\"}")
        let run = try await f.checkConfig()
        #expect(run.status == 0, "\(run.output)")

        try f.write("queue: {store: \"\(url.replacingOccurrences(of: "sslmode=disable", with: "sslmode=require"))\"}")
        #expect(try await f.checkConfig().stdout.contains("the server does not offer TLS, which sslmode=require asks for"))
    }

    @Test func serveNamesTheSettingOfAStateFolderThatIsAFile() async throws {
        let f = Folder()
        let file = f.path + "/afile"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        try f.write("state_dir: \(file)")
        let run = try await Harness.run(Harness.cloudDispatch, ["serve", "--config", f.config, "--listen", "127.0.0.1:0"])
        #expect(run.status == 1)
        #expect(run.output.contains("cloud-dispatch: state_dir (\(f.config)): \(file) is a file, not a folder"), "\(run.output)")
        #expect(!run.output.contains("NSCocoaErrorDomain"))

        let flag = try await Harness.run(Harness.cloudDispatch, ["serve", "--config", f.config, "--state-dir", file + "/x", "--listen", "127.0.0.1:0"])
        #expect(flag.output.contains("cloud-dispatch: state_dir (--state-dir): \(file)/x cannot be made: \(file) is a file, not a folder"),
                "\(flag.output)")
    }

    @Test func serveNamesABusyListenAddress() async throws {
        let f = Folder()
        try f.write("")
        let busy = try BoundPort(listening: true)
        let run = try await Harness.run(Harness.cloudDispatch, ["serve", "--config", f.config, "--listen", "127.0.0.1:\(busy.port)"])
        #expect(run.status == 1)
        #expect(run.output.contains("cloud-dispatch: listen (--listen): 127.0.0.1:\(busy.port): address already in use"), "\(run.output)")
        #expect(!run.output.contains("bind(descriptor"))
        #expect(!FileManager.default.fileExists(atPath: f.path + "/state/queue.sqlite3"), "the store was opened before the address was tried")
    }

    @Test func serveSaysAMissingDriversFolderCameFromTheFile() async throws {
        let f = Folder()
        let plugins = f.path + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try f.write("driver: {name: nosuch, plugins: plugins}")
        let run = try await Harness.run(Harness.cloudDispatch, ["serve", "--config", f.config, "--listen", "127.0.0.1:0"])
        #expect(run.status == 1)
        #expect(run.output.contains("cloud-dispatch: driver.name (\(f.config)): no driver \"nosuch\" in \(plugins) "
                                    + "(plugins folder from driver.plugins in \(f.config); found: none)"), "\(run.output)")
        #expect(!run.output.contains("--plugins"))
    }
}
