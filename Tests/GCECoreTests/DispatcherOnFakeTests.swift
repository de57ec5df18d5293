import APIClient
import DriverHost
import DriverSupport
import Foundation
import GCECore
import Logging
import Queue
import Testing
import TestSupport

/// The whole dispatcher on the fake Compute Engine: `cloud-dispatch serve` loads the built
/// libcdd_gce.so and creates, lists and destroys through the fake. The fake's instances have
/// addresses nothing answers on, so no worker boots: the boot timeout must shut every one down,
/// the containers never run, and once they are cancelled no instance may be left — in the
/// driver's listing and in the fake's own record.
extension FakeScenarioTests {
    @Test func aDispatcherOnTheFakeLeavesNoInstanceBehind() async throws {
        let dispatcherID = "gce-\(getpid())"
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugins = folder + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: Harness.buildFolder + "/libcdd_gce.so", toPath: plugins + "/libcdd_gce.so")
        for path in [folder, plugins, plugins + "/libcdd_gce.so"] { chmod(path, 0o755) }
        let driverConfig = fake.config()
        try """
            dispatcher_id: \(dispatcherID)
            driver: {name: gce, plugins: \(plugins), config: \(driverConfig)}
            instance_types:
              - {name: micro, provider_type: e2-micro, vcpus: 2, ram: 1GiB, price: 0.0084}
              - {name: small, provider_type: e2-small, vcpus: 2, ram: 2GiB, price: 0.0168}
            scheduling: {idle_timeout: 2s}
            workers: {boot_timeout: 3s, probe_interval: 1s, poll_interval: 1s, connect_timeout: 1s, command_timeout: 2s,
                      shutdown_retry: 2s, runner_binary: /bin/true}
            """.write(toFile: folder + "/config.yml", atomically: true, encoding: .utf8)

        // The observer is the same instance set in this process: a set sees only its own instances.
        let observer = try fake.open(setID: dispatcherID)
        let daemon = try ServeProcess(config: folder + "/config.yml", stateDir: folder + "/state")
        var seen = Set<String>()
        func listed() throws -> Set<String> {
            let ids = (JSONValue.parse(Array(try observer.list(Data(#"{"tags": {"cloud-dispatch-instance-set": "\#(dispatcherID)"}}"#.utf8))))?["instances"].array ?? [])
                .compactMap { $0["id"].string }
            seen.formUnion(ids)
            return Set(ids)
        }
        defer { daemon.stopWithoutWaiting() }
        #expect(await daemon.ready(), "the daemon did not start:\n\(daemon.log.suffix(4000))")
        let client = try daemon.client()
        var big = ContainerSpec(command: ["true"])
        big.runtimeConstraints.ram = 1536 << 20  // fits an e2-small only
        let uuids = try await client.submit([ContainerSpec(command: ["true"]), big]).map(\.uuid)

        // Instances come, and go at the boot timeout; wait until two have come and gone.
        var cycled = false
        for _ in 0..<300 where !cycled {
            let now = try listed()
            cycled = seen.subtracting(now).count >= 2
            if !cycled { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(cycled, "seen \(seen.sorted())\n\(daemon.log.suffix(4000))")
        var states = Set<ContainerState>()
        for uuid in uuids { states.insert(try await client.get(uuid).state) }
        #expect(!states.contains(.running))

        for uuid in uuids { _ = try await client.cancel(uuid, reason: "test: the workers never boot") }
        var emptied = false
        for _ in 0..<150 where !emptied {
            emptied = try listed().isEmpty && (try fake.stats()["instances"].array ?? []).isEmpty
            if !emptied { try await Task.sleep(for: .milliseconds(200)) }
        }
        let left = try fake.stats()["instances"]
        #expect(emptied, "left: \(left)\n\(daemon.log.suffix(4000))")
        for uuid in uuids { #expect(try await client.get(uuid).state == .cancelled) }
        #expect(await daemon.stop() == 0, "\(daemon.log.suffix(4000))")
        #expect(try fake.calls("compute.instances.delete") >= 2)
        try noProblems()
    }
}
