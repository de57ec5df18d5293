import Config
import Foundation
import JSON
import Scheduler
import Testing

@Suite struct DefaultsTests {
    @Test func emptyFileGivesEveryDefault() throws {
        let c = try #require(config(""))
        var expected = Configuration(stateDir: "/etc/cd/state")
        expected.driver = .init(name: "loopback", plugins: nil, config: nil, image: nil)
        #expect(c == expected)

        #expect(c.driver.name == "loopback" && c.driver.config == nil)
        #expect(c.effectiveDriverConfig["state_dir"] == .string("/etc/cd/state/loopback"))
        guard case .array(let catalogue)? = c.effectiveDriverConfig["instance_types"] else { Issue.record("no catalogue for loopback"); return }
        #expect(catalogue.map { $0["provider_type"] } == [.string("local-small"), .string("local-medium"), .string("local-large")])
        #expect(catalogue.first?["ram"] == .integer(1 << 30))
        #expect(c.instanceTypes.map(\.name) == ["local-small", "local-medium", "local-large"])
        #expect(c.instanceTypes.map(\.providerType) == ["local-small", "local-medium", "local-large"])
        #expect(c.instanceTypes.map(\.vcpus) == [1, 2, 4])
        #expect(c.instanceTypes.map(\.ram) == [GiB, 4 * GiB, 8 * GiB])
        #expect(c.instanceTypes.map(\.price) == [0.01, 0.03, 0.07])
        #expect(c.instanceTypes.allSatisfy { $0.scratch == 0 && $0.gpuCount == 0 && !$0.preemptible && $0.quotaGroup == "default" })

        #expect(c.scheduling.maxPriceFactor == 1.5)
        let s = c.scheduling.limits
        #expect(s.maxInstances == 64 && s.maxHourlySpend == nil)
        #expect(s.maxConcurrentCreates == 8 && s.maxContainersPerInstance == 16 && s.idleTimeout == 60)

        let w = c.workers
        #expect(w.tagPrefix == "cloud-dispatch-" && w.sshUser == "" && w.sshKey == nil && w.runtime == .none)
        #expect(w.runnerBinary == nil && w.initCommand == nil)
        #expect([w.bootTimeout, w.probeTimeout, w.shutdownRetry, w.listGrace, w.termTimeout] == [600, 600, 60, 60, 120])
        #expect([w.connectTimeout, w.commandTimeout, w.probeInterval, w.pollInterval] == [10, 60, 5, 1])
        #expect(w.maxConcurrentProbes == 20)
        #expect(c.workerKeyPath == "/etc/cd/state/worker_ed25519")
    }

    @Test func theExampleSpellsOutTheDefaults() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../examples/local.yml")
        let c = try ConfigLoader.load(path: example.standardizedFileURL.path, environment: [:]).get()
        #expect(c.stateDir.hasSuffix("/examples/../out/local-state"))
        #expect(c == Configuration(stateDir: c.stateDir))
    }

    @Test func anotherDriverGetsAnEmptyConfigWhenNoneIsGiven() throws {
        let c = try #require(config("driver: {name: ec2}"))
        #expect(c.effectiveDriverConfig == .object([:]))
    }

    @Test func fullFileParsesToTheExpectedValues() throws {
        let dir = TempFolder()
        dir.folder("plugins")
        let key = dir.file("worker_key")
        let runner = dir.file("runner", mode: 0o755)
        let yaml = """
            state_dir: state
            driver:
              name: ec2
              plugins: plugins
              config: {region: eu-west-1, subnets: [a, b], retries: 3, ratio: 0.5, nested: {enabled: true}}
              image: ami-123
              calls_per_second: 2.5
              call_burst: 5
            instance_types:
              - name: small
                vcpus: 2
                ram: 4GiB
                price: 0.1
              - name: gpu.large
                provider_type: g5.2xlarge
                vcpus: 8
                ram: 34359738368
                scratch: 450GB
                added_scratch: 100GiB
                gpu: {count: 1, stack: cuda, vram: 24GiB}
                price: 1.212
                preemptible: true
                quota_group: gpu
            scheduling:
              max_price_factor: 2
              max_instances: 10
              max_hourly_spend: 25.5
              max_concurrent_creates: 3
              max_containers_per_instance: 4
              idle_timeout: 5m
            workers:
              tag_prefix: cd-
              ssh_user: admin
              ssh_key: worker_key
              runtime: docker
              runner_binary: \(runner)
              init_command: apt-get install -y jq
              boot_timeout: 15m
              probe_timeout: 1h30m
              shutdown_retry: 90s
              list_grace: 0
              term_timeout: 3m
              connect_timeout: 2.5
              command_timeout: "120"
              probe_interval: 500ms
              max_concurrent_probes: 50
              poll_interval: 2s
            """
        let c = try #require(config(yaml, folder: dir.path))
        #expect(c.stateDir == dir.path + "/state")
        var driver = Configuration.DriverSettings(name: "ec2", plugins: dir.path + "/plugins", config: .object([
            "region": .string("eu-west-1"), "subnets": .array([.string("a"), .string("b")]), "retries": .integer(3),
            "ratio": .number(0.5), "nested": .object(["enabled": .bool(true)]),
        ]), image: "ami-123")
        driver.callsPerSecond = 2.5
        driver.callBurst = 5
        #expect(c.driver == driver)
        #expect(c.instanceTypes == [
            .init(name: "small", vcpus: 2, ram: 4 * GiB, price: 0.1),
            .init(name: "gpu.large", providerType: "g5.2xlarge", vcpus: 8, ram: 32 * GiB, scratch: 450_000_000_000, addedScratch: 100 * GiB,
                  gpuCount: 1, gpuStack: "cuda", gpuVRAM: 24 * GiB, price: 1.212, preemptible: true, quotaGroup: "gpu"),
        ])
        var s = Configuration.SchedulingSettings()
        s.maxPriceFactor = 2
        s.limits = Limits(maxInstances: 10, maxHourlySpend: 25.5, maxConcurrentCreates: 3, maxContainersPerInstance: 4, idleTimeout: 300)
        #expect(c.scheduling == s)
        var w = Configuration.WorkerSettings()
        (w.tagPrefix, w.sshUser, w.sshKey, w.runtime) = ("cd-", "admin", key, .docker)
        (w.runnerBinary, w.initCommand) = (runner, "apt-get install -y jq")
        (w.bootTimeout, w.probeTimeout, w.shutdownRetry, w.listGrace, w.termTimeout) = (900, 5400, 90, 0, 180)
        (w.connectTimeout, w.commandTimeout, w.probeInterval, w.maxConcurrentProbes, w.pollInterval) = (2.5, 120, 0.5, 50, 2)
        #expect(c.workers == w)
        #expect(c.workerKeyPath == key)
        #expect(c.effectiveDriverConfig == c.driver.config)
    }
}
