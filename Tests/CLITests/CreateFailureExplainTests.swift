import APIClient
import Foundation
import Queue
import Testing
import TestSupport

/// A container whose every create fails (`invalid`: a type the driver does not offer) says why,
/// instead of "create failed; backing off" (issue 11): it is cancelled with the cloud's refusal,
/// since no type that fits it can be made (issue 12).
@Suite(.serialized) struct CreateFailureExplainTests {
    @Test func explainShowsTheCloudsErrorAndServeWarnsAtStart() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = folder + "/config.yml"
        try """
            dispatcher_id: explain
            driver: {name: sim}
            instance_types: [{name: small, provider_type: nosuch, vcpus: 2, ram: 4GiB, price: 0.1}]
            workers: {poll_interval: 1s}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try Daemon(stateDir: folder + "/state", extra: ["--config", config], dispatch: true)
        defer { daemon.stopWithoutWaiting() }
        #expect(await daemon.ready(), "\(daemon.log)")
        #expect(daemon.log.contains("instance type cannot be created"), "\(daemon.log)")
        #expect(daemon.log.contains("instance_types[0].provider_type (\(config)): \\\"nosuch\\\" (small) is not in the sim driver's catalogue"),
                "\(daemon.log)")

        let client = try daemon.client()
        let uuid = try await client.submit([ContainerSpec(command: ["true"])])[0].uuid
        var last = ""
        let explained = await Harness.eventually(60) {
            guard let e = try? await client.explain(uuid) else { return false }
            last = "\(e.summary) | \(e.schedulingStatus ?? "")"
            return e.summary.contains("cancelled: cannot run: the cloud refuses to create every instance type that fits it: small: sim.create: invalid")
                && e.summary.contains("unknown type nosuch")
        }
        #expect(explained, "explain said: \(last)")
    }
}
