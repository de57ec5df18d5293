import Config
import JSON
import Testing

@Suite struct DumpTests {
    /// Dumps `c` and reads the text back from the same folder.
    func roundTrip(_ c: Configuration, folder: String) throws -> Configuration {
        let text = ConfigLoader.dump(c)
        switch ConfigLoader.parse(text, file: "dump.yml", folder: folder, environment: [:]) {
        case .success(let back): return back
        case .failure(let p):
            Issue.record("the dump does not load:\n\(p)\n\(text)")
            throw p
        }
    }

    @Test func defaultsRoundTrip() throws {
        let c = try #require(config(""))
        #expect(try roundTrip(c, folder: "/elsewhere") == c)
    }

    @Test func everySettingRoundTrips() throws {
        let dir = TempFolder()
        dir.folder("plugins")
        let key = dir.file("key")
        let runner = dir.file("runner", mode: 0o755)
        var c = Configuration(stateDir: dir.path + "/state with \"quotes\"")
        (c.dispatcherID, c.listenHost, c.listenPort) = ("eu-1", "::1", 9000)
        c.queue.maxDispatchAttempts = 9
        c.queue.takeoverAfter = 45
        c.api.maxBodyBytes = 4096
        c.driver = .init(name: "ec2", plugins: dir.path + "/plugins", config: .object([
            "region": .string("no"), "weights": .array([.number(0.1), .number(1e-7), .integer(-3), .null]),
            "flags": .object(["yes": .bool(false), "line": .string("a\nb\t\u{1}")]), "big": .number(1e300),
        ]), image: "ami-1")
        c.instanceTypes = [
            .init(name: "odd", vcpus: 3, ram: 1_500_000_001, scratch: 3 * GiB / 2, addedScratch: 1, price: 0.1 + 0.2),
            .init(name: "g", providerType: "p4d", vcpus: 96, ram: 1 << 40, gpuCount: 8, gpuStack: "rocm", gpuVRAM: 40 * GiB,
                  price: 32.77, preemptible: true, quotaGroup: "P"),
        ]
        c.scheduling.maxPriceFactor = 1.25
        c.scheduling.limits.maxHourlySpend = 100
        c.scheduling.limits.idleTimeout = 0.25
        c.workers.sshUser = "ubuntu"
        c.workers.sshKey = key
        c.workers.runtime = .podman
        c.workers.runnerBinary = runner
        c.workers.initCommand = "echo 'hi' \"there\" # not a comment"
        c.workers.bootTimeout = 90061
        c.workers.listGrace = 0
        c.workers.probeInterval = 0.1
        c.workers.pollInterval = 1e-5
        c.workers.tagPrefix = "x:"
        #expect(try roundTrip(c, folder: "/elsewhere") == c)
    }

    @Test func tokensShowNameAndRoleOnly() throws {
        let secret = "s3cr3t-s3cr3t-s3cr3t"
        let c = try #require(config("api: {tokens: [{name: alice, role: admin, env: TOKEN}]}", environment: ["TOKEN": secret]))
        #expect(c.api.tokens.count == 1)
        let text = ConfigLoader.dump(c)
        #expect(!text.contains(secret) && !text.contains("TOKEN"))
        #expect(text.contains("#   - {name: \"alice\", role: \"admin\"}"))

        // The dump loads, with the tokens left out.
        var withoutTokens = c
        withoutTokens.api.tokens = []
        #expect(try roundTrip(c, folder: "/etc/cd") == withoutTokens)
    }

    @Test func otherSecretsAreHidden() throws {
        var c = Configuration(stateDir: "/s")
        c.queue.store = "postgres://dispatch:hunter2@db:5432/q?sslmode=require"
        c.driver.config = .object(["region": .string("eu"), "secret_access_key": .string("AKIAxyz"), "auth": .object(["Password": .string("pw")])])
        let text = ConfigLoader.dump(c)
        #expect(!text.contains("hunter2") && !text.contains("AKIAxyz") && !text.contains("\"pw\""))
        #expect(text.contains("store: \"postgres://dispatch:REDACTED@db:5432/q?sslmode=require\""))
        #expect(text.contains("config: {\"auth\": {\"Password\": \"REDACTED\"}, \"region\": \"eu\", \"secret_access_key\": \"REDACTED\"}"))
    }

    @Test func unsetSettingsAreExplained() throws {
        let text = ConfigLoader.dump(try #require(config("")))
        #expect(text.contains("  # config: not set; the driver gets {"))
        #expect(text.contains("\"state_dir\": \"/etc/cd/state/loopback\""))
        #expect(text.contains("  # ssh_key: not set; the host uses \"/etc/cd/state/worker_ed25519\" (made when absent)\n"))
        #expect(text.contains("""
            instance_types:
              - name: "local-small"
                provider_type: "local-small"
                vcpus: 1
                ram: 1GiB
            """))
        #expect(text.contains("  idle_timeout: 1m\n"))
        #expect(text.contains("  boot_timeout: 10m\n"))
    }
}
