import Scheduler
import Testing
import WorkerPool

/// A start sent to a worker that gave no answer (a timeout, a broken session) may have acted: the
/// container counts as started there, and the next probe settles it. Given back to the queue, it
/// would be stopped on that worker and run again, or started a second time elsewhere.
@Suite struct LostStartTests {
    @Test func aStartWhoseAnswerWasLostRunsOnceAndCompletes() async throws {
        try await withWorld(await SimWorld(limits: Limits(maxInstances: 4, idleTimeout: 120))) { world in
            world.executor.loseNextStartAnswers(3)  // each runs its container, then the answer is lost
            let uuids = try await world.submit(3, seconds: 60)
            #expect(try await world.run { try await world.allFinal() })
            for uuid in uuids {
                let record = try await world.store.get(uuid)
                #expect(record.state == .complete, "\(record.state): \(record.runtimeStatus.error ?? "")")
                #expect(world.executor.starts(of: uuid) == 1, "started \(world.executor.starts(of: uuid)) times")
                #expect(world.executor.stopRequests(uuid) == 0, "its only copy was asked to stop")
            }
            #expect(world.executor.violations.isEmpty, "\(world.executor.violations)")
        }
    }

    @Test func aStartLostOnItsWayIsRunAgainOnceTheProbeMissesIt() async throws {
        try await withWorld(await SimWorld(limits: Limits(maxInstances: 4, idleTimeout: 120))) { world in
            world.executor.loseNextStartRequests(1)  // nothing starts, and no answer comes
            let uuid = try await world.submit(1, seconds: 60)[0]
            #expect(try await world.run { try await world.allFinal() })
            let record = try await world.store.get(uuid)
            #expect(record.state == .complete, "\(record.state): \(record.runtimeStatus.error ?? "")")
            #expect(world.executor.starts(of: uuid) == 1, "the one real start")
            #expect(world.executor.violations.isEmpty, "\(world.executor.violations)")
        }
    }
}
