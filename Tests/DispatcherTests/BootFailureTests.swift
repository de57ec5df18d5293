import Foundation
import Queue
import Scheduler
import Testing
import WorkerPool

/// Instances that never boot (a wrong image, no SSH in the security group) are not relaunched
/// every boot_timeout all night: their type backs off, then tries one instance at a time.
@Suite struct BootFailureTests {
    func launches(_ world: SimWorld) -> Int { world.cloud.snapshot.createSizes.reduce(0, +) }

    @Test func unbootableInstancesAreNotRelaunchedEveryBootTimeout() async throws {
        try await withWorld(await SimWorld(neverBootRate: 1)) { world in
            try await world.submit(200)
            _ = try await world.run(step: 10, limit: 4 * 3600) { false }
            let launched = launches(world)
            // Without back-off: max_instances (20) every boot_timeout (300 s), about 960 in 4 hours.
            print("4 hours of unbootable instances: \(launched) launches")
            #expect(launched < 100, "\(launched) launches in 4 hours")
            let boot = await world.dispatcher.pool.backoff.boot
            #expect(boot.notBooting("small"), "\(boot.streaks)")
            let waiting = try await world.all().filter { !$0.state.isFinal }
            #expect(waiting.count == 200)
            let statuses = Set(waiting.compactMap(\.runtimeStatus.schedulingStatus))
            #expect(statuses.allSatisfy { $0.contains("not booting") || $0.contains("did not boot") }, "\(statuses)")
            // The cause the probes saw, not only that there was no answer.
            #expect(boot.streaks["small"]?.cause.hasSuffix(": SSH connection refused or unreachable (simulated)") == true, "\(boot.streaks)")
        }
    }

    @Test func aCeilingOnBootFailuresPerHourStopsEveryCreate() async throws {
        try await withWorld(await SimWorld(neverBootRate: 1, configure: { $0.maxBootFailuresPerHour = 10 })) { world in
            try await world.submit(50)
            _ = try await world.run(step: 10, limit: 3000) { false }
            // The first wave (20 = max_instances) failed at boot_timeout; past the ceiling of 10 an
            // hour, not one more instance, of any type, for the rest of the hour.
            #expect(launches(world) == 20)
            let boot = await world.dispatcher.pool.backoff.boot
            #expect(boot.ceilingReached(now: world.now) != nil)
        }
    }

    @Test func aTypeThatBootsAgainIsBackAfterOneTrialInstance() async throws {
        try await withWorld(await SimWorld(neverBootRate: 1)) { world in
            let uuids = try await world.submit(5)
            #expect(try await world.run { await world.dispatcher.pool.backoff.boot.notBooting("small") })
            world.executor.setNeverBootRate(0)  // the image is fixed
            let before = launches(world)
            #expect(try await world.run { try await world.allFinal() })
            for uuid in uuids { #expect(try await world.store.get(uuid).state == .complete) }
            #expect(await world.dispatcher.pool.backoff.boot.streaks.isEmpty)
            // One trial, then what the queue needs: not a wave into a type known not to boot.
            #expect(launches(world) - before <= 6, "\(launches(world) - before) launches after the fix")
        }
    }

    @Test func aReloadGivesEveryTypeANewChanceAtOnce() async throws {
        try await withWorld(await SimWorld(neverBootRate: 1)) { world in
            try await world.submit(5)
            #expect(try await world.run { await world.dispatcher.pool.backoff.boot.notBooting("small") })
            let pool = world.dispatcher.pool
            await world.dispatcher.reconfigure(types: world.types, maxPriceFactor: 1.5, limits: world.limits,
                                               poolSettings: await pool.settings)
            #expect(await pool.backoff.boot.streaks.isEmpty)
            #expect(await pool.backoff.blocked(world.types[0], now: world.now) == nil)
        }
    }
}
