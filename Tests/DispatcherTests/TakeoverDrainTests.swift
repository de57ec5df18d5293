import Foundation
import Queue
import Testing

/// A survivor running a dead dispatcher's set in drain mode (`Dispatcher(drainOnly: true)`): it
/// adopts what runs there, gives back the locks of what never started, places nothing new, and
/// shuts every instance down once its containers end.
@Suite struct TakeoverDrainTests {
    @Test func aDrainedSetFinishesItsContainersGivesBackStaleLocksAndShutsDown() async throws {
        try await withWorld(await SimWorld(limits: .init(maxInstances: 20, idleTimeout: 100_000), bootDelay: 30...30)) { world in
            let running = try await world.submit(4, seconds: 600, vcpus: 2)
            #expect(try await world.run { try await world.all().filter { $0.state == .running }.count == 4 })
            // The dead dispatcher had locked one more and died before starting it.
            let stale = try await world.submit(1, seconds: 60)[0]
            #expect(try await world.store.lock([stale], by: "sim-dispatcher").count == 1)

            world.takeOverDispatcher()
            let fresh = try await world.submit(3, seconds: 60)  // work a draining set must not take
            #expect(try await world.run(limit: 7200) { world.dispatcher.isDrained }, "the set never drained")
            #expect(world.executor.violations.isEmpty, "\(world.executor.violations)")
            for uuid in running {
                let c = try await world.store.get(uuid)
                #expect(c.state == .complete && c.lockCount == 0, "\(uuid): \(c.state) after \(c.lockCount) attempts")
            }
            let given = try await world.store.get(stale)
            #expect(given.state == .queued && given.lockCount == 1 && given.lockedBy == nil, "a stale lock is given back, an attempt counted")
            for uuid in fresh {
                #expect(try await world.store.get(uuid).state == .queued, "nothing new is placed on a draining set")
            }
            #expect(try await world.listedInstances().isEmpty, "every instance of the set was shut down")
        }
    }
}
