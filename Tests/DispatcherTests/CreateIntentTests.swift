import DriverHost
import Foundation
import Queue
import Scheduler
import Testing
import WorkerPool

/// One set of instances per create intent, whatever is lost: the cloud's answer, or the whole
/// dispatcher between the call and its answer.
@Suite struct CreateIntentTests {
    @Test func lostAnswersNeverMakeMoreInstancesThanMaxInstances() async throws {
        // The cloud is listed once a minute, as in production (where rounds come every second).
        try await withWorld(await SimWorld(limits: Limits(maxInstances: 8, idleTimeout: 120), configure: { $0.syncInterval = 60 })) { world in
            world.cloud.loseNextCreateAnswers(1_000)  // every create acts, and its answer is lost
            let uuids = try await world.submit(40, seconds: 120)
            _ = try await world.run { await world.dispatcher.pool.views().count >= 8 }
            world.cloud.loseNextCreateAnswers(0)
            #expect(try await world.run { try await world.allFinal() })
            for uuid in uuids { #expect(try await world.store.get(uuid).state == .complete) }
            let counts = world.cloud.snapshot
            #expect(counts.mostAlive <= 8, "the cloud held \(counts.mostAlive) instances with max_instances 8")
            #expect(world.executor.violations.isEmpty, "\(world.executor.violations)")
            #expect(try await world.store.openIntents(instanceSet: "sim-test").isEmpty, "intents left open")
        }
    }

    @Test func aDispatcherThatDiesBetweenTheCallAndItsAnswerMakesNoSecondSet() async throws {
        try await withWorld(await SimWorld(limits: Limits(maxInstances: 4, idleTimeout: 120))) { world in
            world.cloud.loseNextCreateAnswers(1_000)
            try await world.submit(4, seconds: 60)
            await world.dispatcher.tickAndSettle(now: world.now)  // the creates act; their answers are lost
            let made = world.cloud.snapshot.createSizes.reduce(0, +)
            #expect(made >= 1)
            #expect(try await !world.store.openIntents(instanceSet: "sim-test").isEmpty, "the intents are on record")

            world.cloud.loseNextCreateAnswers(0)
            world.restartDispatcher()  // kill -9: nothing survives but the queue, the cloud and the workers
            #expect(try await world.run { try await world.allFinal() })
            let counts = world.cloud.snapshot
            #expect(counts.mostAlive <= 4, "the cloud held \(counts.mostAlive) instances with max_instances 4")
            let listed = try await world.listedInstances()
            let perIntent = Dictionary(grouping: listed, by: { $0.tags["cloud-dispatch-intent"] ?? "none" }).mapValues(\.count)
            #expect(perIntent.values.allSatisfy { $0 <= 4 }, "\(perIntent)")
            #expect(try await world.store.openIntents(instanceSet: "sim-test").isEmpty, "intents left open")
        }
    }

    @Test func onlyAnIntentsFirstSendSaysItIsOne() async throws {
        // first_send lets a driver skip looking for a token's earlier instances: it must be true
        // exactly when none can exist — never on a resend after a lost answer, in this process
        // or in the next one.
        try await withWorld(await SimWorld(limits: Limits(maxInstances: 4, idleTimeout: 120), configure: { $0.syncInterval = 300 })) { world in
            world.cloud.loseNextCreateAnswers(1_000)
            try await world.submit(3, seconds: 60)
            await world.dispatcher.tickAndSettle(now: world.now)  // first sends: they act, their answers are lost
            world.restartDispatcher()
            world.cloud.failNextLists(1)  // the new process cannot list them yet: it sends its open intents again
            await world.dispatcher.tickAndSettle(now: world.now)
            world.cloud.loseNextCreateAnswers(0)
            #expect(try await world.run { try await world.allFinal() })
            let sends = world.cloud.snapshot.firstSends
            #expect(sends.values.contains { $0.count >= 2 }, "no intent was sent again: \(sends)")
            #expect(world.cloud.snapshot.firstSendMistakes.isEmpty, "\(sends)")
        }
    }
}

/// A create sent again after a lost answer, whose instances came and went before any listing saw
/// them: the driver refuses the spent token (`invalid`). That says nothing of the type, which the
/// first send found valid: it must not be blocked (with one type, its containers would be cancelled).
@Suite struct SpentTokenTests {
    @Test func aResentCreateRefusedForItsSpentTokenDoesNotBlockTheType() async throws {
        let world = try await SimWorld(limits: Limits(maxInstances: 4, idleTimeout: 120), types: [SimWorld.types[0]],
                                       configure: { $0.syncInterval = 300 })
        try await withWorld(world) { world in
            world.cloud.loseNextCreateAnswers(1)
            let uuid = try await world.submit(1, seconds: 60)[0]
            await world.dispatcher.tickAndSettle(now: world.now)  // the create acts; its answer is lost
            let made = try await world.listedInstances()
            #expect(made.count == 1)
            _ = try await world.set.destroy(ids: made.map(\.id))  // reclaimed before any listing saw it
            #expect(try await world.run { try await world.store.get(uuid).state.isFinal })
            let record = try await world.store.get(uuid)
            #expect(record.state == .complete, "\(record.state): \(record.runtimeStatus.error ?? "")")
            #expect(world.cloud.snapshot.calls["create", default: 0] >= 3, "first send, resend refused, a new intent")
        }
    }
}

/// A destroy whose answer was lost may have acted: the worker takes no new work.
@Suite struct LostDestroyTests {
    @Test func aWorkerWhoseDestroyAnswerWasLostTakesNoNewWork() async throws {
        try await withWorld(await SimWorld(limits: Limits(maxInstances: 4, idleTimeout: 120), configure: { $0.syncInterval = 300 })) { world in
            try await world.submit(1, seconds: 60)
            #expect(try await world.run { try await world.allFinal() })
            world.cloud.loseNextDestroyAnswers(1)
            #expect(try await world.run { world.cloud.snapshot.calls["destroy", default: 0] >= 1 }, "the idle worker was not shut down")
            let second = try await world.submit(1, seconds: 60)[0]
            #expect(try await world.run { try await world.allFinal() })
            let record = try await world.store.get(second)
            #expect(record.state == .complete && record.lockCount == 0, "\(record.state), given back \(record.lockCount) times")
            #expect(world.executor.startCount == 2, "\(world.executor.startCount) starts for 2 containers")
        }
    }
}

/// A destroy the cloud accepted but did not carry out: the instance is still listed
/// `shutdown_retry` later, so it is destroyed again.
@Suite struct IgnoredDestroyTests {
    @Test func anInstanceStillListedAfterItsDestroyIsDestroyedAgain() async throws {
        try await withWorld(await SimWorld(limits: Limits(maxInstances: 4, idleTimeout: 120))) { world in
            try await world.submit(1, seconds: 60)
            #expect(try await world.run { try await world.allFinal() })
            world.cloud.ignoreNextDestroys(1)
            #expect(try await world.run { world.cloud.snapshot.calls["destroy", default: 0] >= 1 })
            let ignoredAt = world.now
            #expect(try await world.listedInstances().count == 1, "the cloud kept it")
            #expect(try await world.run { try await world.listedInstances().isEmpty }, "destroyed again")
            #expect(world.cloud.snapshot.calls["destroy", default: 0] == 2)
            #expect(world.now - ignoredAt >= 60, "not before shutdown_retry")
        }
    }
}
