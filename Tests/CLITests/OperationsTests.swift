import APIClient
import Foundation
import Queue
import Testing
import TestSupport

/// The daemon as an operator runs it: structured logs without secrets, /metrics, SIGHUP
/// reloads, sd_notify, check-config.
@Suite(.serialized) struct OperationsTests {
    static func randomHex(_ bytes: Int) -> String { (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }

    final class Setup {
        let folder = Harness.temporaryFolder()
        let token = "tok_" + OperationsTests.randomHex(20)
        let credential = "cred_" + OperationsTests.randomHex(20)
        var stateDir: String { folder + "/state" }
        var configPath: String { folder + "/config.yml" }

        init() throws {
            let tokenFile = folder + "/admin.tok"
            try token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
            chmod(tokenFile, 0o600)
        }

        /// The configuration, with `scheduling` as given; the loopback driver's config carries a credential.
        func writeConfig(scheduling: String = "{idle_timeout: 30s}", format: String = "json") throws {
            try """
                dispatcher_id: ops
                log_format: \(format)
                api: {tokens: [{name: admin, role: admin, file: admin.tok}]}
                driver:
                  name: loopback
                  config:
                    state_dir: \(stateDir)/loopback
                    api_token: \(credential)
                    instance_types: [{provider_type: local-small, vcpus: 2, ram: 2147483648, scratch: 0, price: 0.01}]
                instance_types: [{name: local-small, vcpus: 2, ram: 2GiB, price: 0.01}]
                scheduling: \(scheduling)
                workers: {probe_interval: 1s, poll_interval: 1s, boot_timeout: 30s, probe_timeout: 6s,
                          connect_timeout: 4s, command_timeout: 10s}
                """.write(toFile: configPath, atomically: true, encoding: .utf8)
        }

        func client(_ daemon: Daemon) -> APIClient { APIClient(server: URL(string: daemon.url)!, token: token) }

        /// Instance secrets, as the loopback driver recorded the instances' tags.
        func instanceSecrets() -> [String] {
            let root = stateDir + "/loopback/ops/instances"  // <state_dir>/<instance set>/instances
            let ids = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            return ids.compactMap { id in
                guard let data = FileManager.default.contents(atPath: "\(root)/\(id)/instance.json"),
                      let record = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let tags = record["tags"] as? [String: String] else { return nil }
                return tags.first { $0.key.hasSuffix("secret") }?.value
            }
        }

        deinit {
            for pid in Harness.processes(mentioning: stateDir + "/loopback") where Harness.commandLine(pid).hasPrefix("sshd") {
                kill(pid, SIGKILL)
            }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    static func metrics(_ daemon: Daemon) async throws -> String {
        let (status, body) = try await APIClient(server: URL(string: daemon.url)!, token: nil).raw("GET", "/metrics")
        #expect(status == 200)
        return String(decoding: body, as: UTF8.self)
    }

    @Test func aFullRunLogsStructuredFieldsAndNoSecret() async throws {
        let setup = try Setup()
        try setup.writeConfig()
        let daemon = try Daemon(stateDir: setup.stateDir, extra: ["--config", setup.configPath, "--log-level", "debug"], dispatch: true)
        guard await daemon.ready() else { throw HarnessError("daemon did not start: \(daemon.log)") }
        let client = setup.client(daemon)
        let uuid = try await client.submit([ContainerSpec(command: ["sh", "-c", "echo hello"])])[0].uuid
        var last = try await client.get(uuid)
        for _ in 0..<300 where !last.state.isFinal {
            try await Task.sleep(for: .milliseconds(100))
            last = try await client.get(uuid)
        }
        #expect(last.state == .complete)

        // Metrics over HTTP, without a token.
        let text = try await Self.metrics(daemon)
        #expect(text.contains("cloud_dispatch_driver_operations_total{"))
        #expect(text.contains("operation=\"create\""))
        #expect(text.contains("cloud_dispatch_boot_outcomes_total{outcome=\"ready\"}"))
        #expect(text.contains("cloud_dispatch_containers_queue_to_start_seconds_count 1"))
        #expect(!text.contains(uuid))  // no container ids in metrics
        #expect(await daemon.stop() == 0)

        let secrets = setup.instanceSecrets()
        #expect(!secrets.isEmpty)
        let key = try String(contentsOfFile: setup.stateDir + "/worker_ed25519", encoding: .utf8)
        let keyLines = key.split(separator: "\n").filter { !$0.hasPrefix("-----") }.map(String.init)
        let log = daemon.log
        #expect(log.contains("\"level\":\"debug\""))  // debug lines were written
        for secret in [setup.token, setup.credential] + secrets + keyLines {
            #expect(!log.contains(secret), "a secret was logged: \(secret.prefix(8))…")
        }
        // JSON, one event a line; the lines about a container name it and its instance and driver.
        let events = log.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        #expect(events.count == log.split(separator: "\n").count)
        let started = events.filter { $0["msg"] == "container started" }
        #expect(started.count == 1)
        #expect(started.first?["container"] == uuid)
        #expect(started.first?["instance"] != nil)
        #expect(started.first?["driver"] == "loopback")
    }

    @Test func sighupReloadsAGoodConfigAndRefusesABadOne() async throws {
        let setup = try Setup()
        try setup.writeConfig(scheduling: "{max_instances: 5}", format: "logfmt")
        let notify = try NotifySocket(path: setup.folder + "/notify.sock")
        let daemon = try Daemon(stateDir: setup.stateDir, extra: ["--config", setup.configPath], dispatch: true,
                                environment: ["NOTIFY_SOCKET": notify.path])
        #expect(await notify.wait(for: "READY=1"))
        guard await daemon.ready() else { throw HarnessError("daemon did not start: \(daemon.log)") }
        func limit() async throws -> Double? { value(try await Self.metrics(daemon), "cloud_dispatch_limit_max_instances") }
        #expect(await Harness.eventually(15) { (try? await limit()) == 5 })

        try setup.writeConfig(scheduling: "{max_instances: 7}", format: "logfmt")
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(await Harness.eventually(15) { (try? await limit()) == 7 })
        #expect(daemon.log.contains("msg=\"configuration reloaded\""))

        try "scheduling: {max_instances: many}\nbogus: 1\n".write(toFile: setup.configPath, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(await Harness.eventually(15) { daemon.log.contains("configuration reload refused") })
        #expect(daemon.log.contains("bogus: unknown member"))
        let text = try await Self.metrics(daemon)
        #expect(value(text, "cloud_dispatch_limit_max_instances") == 7)
        #expect(value(text, "cloud_dispatch_config_reloads_total", ["result": "refused"]) == 1)
        #expect(value(text, "cloud_dispatch_config_reloads_total", ["result": "applied"]) == 1)
        #expect(daemon.process.isRunning)

        kill(daemon.process.processIdentifier, SIGTERM)
        #expect(await notify.wait(for: "STOPPING=1"))
        #expect(await daemon.stop() == 0)
        #expect(daemon.log.contains("msg=stopped"))
    }

    @Test func checkConfigReportsEachProblemWithItsPath() async throws {
        let setup = try Setup()
        let cases: [(String, String)] = [
            ("driver: {name: nosuch}", "driver.name: no driver \"nosuch\" in "),
            ("instance_types: [{name: a, vcpus: 1, ram: 1GiB}]", "instance_types[0].price: missing"),
            ("workers: {ssh_key: /nonexistent/key}", "workers.ssh_key: cannot read /nonexistent/key"),
            ("log_format: xml", "log_format: "),
            ("scheduling: {max_instancs: 3}", "scheduling.max_instancs: unknown member"),
            ("scheduling: {idle_timeout: soon}", "scheduling.idle_timeout: \"soon\" is not a duration"),
        ]
        for (yaml, message) in cases {
            let path = setup.folder + "/broken.yml"
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            let run = try await Harness.run(Harness.cloudDispatch, ["check-config", path])
            #expect(run.status == 1, "\(yaml)")
            #expect(run.stdout.contains("\(path): \(message)"), "\(yaml): \(run.stdout)")
        }
        // All problems of one file at once.
        try "bogus: 1\ndriver: {name: nosuch}\n".write(toFile: setup.configPath, atomically: true, encoding: .utf8)
        let both = try await Harness.run(Harness.cloudDispatch, ["check-config", setup.configPath])
        #expect(both.stdout.contains("bogus: unknown member") && both.stdout.contains("driver.name: no driver"))

        try setup.writeConfig()
        // Each configured type beside the driver's catalogue price and the quota group it will be in.
        let checked = try await Harness.run(Harness.cloudDispatch, ["check-config", setup.configPath])
        #expect(checked.status == 0, "\(checked.output)")
        let line = checked.stdout.split(separator: "\n").first { $0.hasPrefix("  local-small") }.map(String.init) ?? ""
        #expect(line.hasSuffix("$0.0100/h | $0.0100/h | local (the driver's)"), "\(checked.stdout)")
        let good = try await Harness.run(Harness.cloudDispatch, ["check-config", setup.configPath, "--dump"])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.stdout.contains("log_format: json"))
        #expect(!good.stdout.contains(setup.credential))
        let dumped = try await Harness.run(Harness.cloudDispatch, ["serve", "--config", setup.configPath, "--dump-config"])
        #expect(dumped.status == 0)
        #expect(dumped.stdout.contains("max_instances: 64"))
        #expect(!dumped.stdout.contains(setup.token))
    }
}

/// A sample's value from Prometheus text: the first line of `name` whose labels include `labels`.
func value(_ text: String, _ name: String, _ labels: [String: String] = [:]) -> Double? {
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        let head = line.prefix { $0 != " " }
        let metric = head.prefix { $0 != "{" }
        guard metric == name else { continue }
        if labels.allSatisfy({ head.contains("\($0.key)=\"\($0.value)\"") }) { return Double(line.split(separator: " ").last ?? "") }
    }
    return nil
}
