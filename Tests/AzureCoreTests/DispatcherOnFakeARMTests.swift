import APIClient
import AzureCore
import DriverSupport
import Foundation
import Queue
import Testing
import TestSupport

/// The whole dispatcher on the fake ARM server: `cloud-dispatch serve` loads the built
/// libcdd_azure.so and creates, lists, tags and destroys through the fake. The fake's VMs have
/// addresses nothing answers on, so no worker boots: the boot timeout must shut each one down,
/// the containers never run, and once they are cancelled no VM, NIC, public IP or disk of the
/// dispatcher's may be left at the fake.
extension FakeARMScenarioTests {
    @Test func aDispatcherRunLeavesNothingBehind() async throws {
        try AzurePeer.clearFaults()
        let e = try AzurePeer.endpoints()
        let dispatcherID = "disp-\(run)"
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugins = folder + "/plugins"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: false)
        try FileManager.default.copyItem(atPath: Harness.buildFolder + "/libcdd_azure.so", toPath: plugins + "/libcdd_azure.so")
        for path in [folder, plugins, plugins + "/libcdd_azure.so"] { chmod(path, 0o755) }
        let driverConfig = #"{"subscription_id": "\#(AzurePeer.subscription)", "resource_group": "\#(AzurePeer.group)", "location": "westeurope", "subnet_id": "\#(AzurePeer.subnet)", "tenant_id": "tenant-1", "client_id": "client-1", "client_secret": "fake-secret", "authority_host": "\#(e.arm)", "arm_endpoint": "\#(e.arm)", "ca_bundle": "\#(e.ca)", "image": "Debian:debian-12:12-gen2:latest", "poll_interval_ms": 20, "use_public_ip": true}"#
        try """
            dispatcher_id: \(dispatcherID)
            driver: {name: azure, plugins: \(plugins), config: \(driverConfig)}
            instance_types:
              - {name: b1s, provider_type: Standard_B1s, vcpus: 1, ram: 1GiB, price: 0.0104, scratch: 2GiB, added_scratch: 1GiB}
              - {name: d2s, provider_type: Standard_D2s_v3, vcpus: 2, ram: 8GiB, price: 0.096}
            scheduling: {idle_timeout: 2s}
            workers: {boot_timeout: 3s, probe_interval: 1s, poll_interval: 1s, connect_timeout: 1s, command_timeout: 2s,
                      shutdown_retry: 2s, runner_binary: /bin/true}
            """.write(toFile: folder + "/config.yml", atomically: true, encoding: .utf8)
        let prefix = Names.setPrefix(dispatcherID)
        func ours() throws -> [String] {
            try ["virtualMachines", "networkInterfaces", "publicIPAddresses", "disks"].flatMap { try AzurePeer.names($0, prefix: prefix) }
        }

        let daemon = try ServeProcess(config: folder + "/config.yml", stateDir: folder + "/state")
        defer { daemon.stopWithoutWaiting() }
        guard await daemon.ready() else { Issue.record("the daemon did not start:\n\(daemon.log)"); return }
        let client = try daemon.client()
        var big = ContainerSpec(command: ["true"])
        big.runtimeConstraints.ram = 4 << 30  // fits Standard_D2s_v3 only
        let uuids = try await client.submit([ContainerSpec(command: ["true"]), big]).map(\.uuid)

        // VMs come and, at the boot timeout, go; wait until at least two were shut down.
        var seen = Set<String>()
        var shutDown = 0
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, shutDown < 2 {
            seen.formUnion(try AzurePeer.names("virtualMachines", prefix: prefix))
            shutDown = daemon.log.split(separator: "\n").filter { $0.contains("instance shut down") && $0.contains("did not boot within 3s") }.count
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(shutDown >= 2, "VMs seen: \(seen.sorted())\n\(daemon.log.suffix(4000))")
        for uuid in uuids { _ = try await client.cancel(uuid, reason: "test: the workers never boot") }
        var left = try ours()
        let emptyBy = Date().addingTimeInterval(30)
        while Date() < emptyBy, !left.isEmpty {
            try await Task.sleep(for: .milliseconds(200))
            left = try ours()
        }
        #expect(left.isEmpty, "left at the fake after the cancel: \(left)\n\(daemon.log.suffix(4000))")
        for uuid in uuids { #expect(try await client.get(uuid).state == .cancelled) }
        #expect(await daemon.stop() == 0, "\(daemon.log.suffix(4000))")
        try noViolations()
        print("dispatcher on the fake ARM: \(seen.count) VMs created and destroyed, nothing left")
    }
}
