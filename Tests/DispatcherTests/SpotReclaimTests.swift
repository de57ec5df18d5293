import Foundation
import Queue
import Scheduler
import Testing

/// Preemptible work on a cloud that takes its spot instances back: what ran there is requeued
/// and runs again, never twice at once, and nothing is left behind.
@Suite struct SpotReclaimTests {
    static let types = SimWorld.types + [
        InstanceType(name: "small-spot", providerType: "sim.small", vcpus: 2, ram: 4 << 30, price: 0.03, preemptible: true, quotaGroup: "sim-spot"),
    ]

    @Test func reclaimedWorkIsRequeuedAndCompletes() async throws {
        let world = try await SimWorld(simConfig: #"{"seed": 3, "spot_reclaim_rate": 0.01}"#, bootDelay: 20...40, maxAttempts: 10,
                                       types: Self.types)
        try await withWorld(world) { world in
            let uuids = try await world.store.submit((0..<12).map { _ in
                ContainerSpec(command: ["sim", "600", "0"], runtimeConstraints: RuntimeConstraints(vcpus: 1, ram: 1 << 30),
                              schedulingParameters: SchedulingParameters(preemptible: true))
            }).map(\.uuid)
            #expect(try await world.run {
                try await world.store.list(ContainerQuery(states: [.complete, .cancelled], limit: 100)).items.count == uuids.count
            })
            var requeued = 0
            for uuid in uuids {
                let c = try await world.store.get(uuid)
                #expect(c.state == .complete, "\(uuid): \(c.state) \(c.runtimeStatus.error ?? "")")
                #expect(c.instance?.hasPrefix("small-spot ") == true, "ran on \(c.instance ?? "nothing")")
                if c.lockCount > 0 { requeued += 1 }
            }
            #expect(requeued > 0, "no container was ever on a reclaimed instance: the test proves nothing")
            #expect(world.executor.violations.isEmpty)
            #expect(try await world.run { try await world.listedInstances().isEmpty })
        }
    }
}
