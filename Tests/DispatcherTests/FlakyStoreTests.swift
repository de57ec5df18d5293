import Foundation
import Queue
import Synchronization
import Testing

/// A queue store that is unreachable for the first N results it is asked to record.
final class FlakyStore: ForwardingStore, @unchecked Sendable {
    let failuresLeft: Mutex<Int>
    let lockFailuresLeft: Mutex<Int>

    init(_ inner: any ContainerStore, failCompletes: Int = 0, failLocks: Int = 0) {
        failuresLeft = Mutex(failCompletes)
        lockFailuresLeft = Mutex(failLocks)
        super.init(inner)
    }

    override func apply(_ event: Event, to uuid: String) async throws(QueueError) -> Container {
        if case .complete = event, failuresLeft.withLock({ n in defer { n -= 1 }; return n > 0 }) {
            throw .unavailable("simulated outage")
        }
        return try await inner.apply(event, to: uuid)
    }

    override func lock(_ uuids: [String], by d: String) async throws(QueueError) -> [Container] {
        if lockFailuresLeft.withLock({ n in defer { n -= 1 }; return n > 0 }) { throw .unavailable("simulated outage") }
        return try await inner.lock(uuids, by: d)
    }
}

@Suite struct StoreOutageTests {
    @Test func aResultTheStoreCouldNotTakeIsRecordedLaterNotRerun() async throws {
        try await withWorld(await SimWorld()) { world in
            world.restartDispatcher(store: FlakyStore(world.store, failCompletes: 3))
            let uuids = try await world.submit(3, seconds: 200, exit: 4)
            #expect(try await world.run { try await world.allFinal() })
            for uuid in uuids {
                let c = try await world.store.get(uuid)
                #expect(c.state == .complete && c.exitCode == 4 && c.lockCount == 0, "recorded once the store was back: \(c.state)")
            }
            #expect(world.executor.startCount == 3, "nothing ran twice")
        }
    }

    @Test func nothingIsCreatedForContainersTheQueueWouldNotLock() async throws {
        try await withWorld(await SimWorld()) { world in
            world.restartDispatcher(store: FlakyStore(world.store, failLocks: 2))
            try await world.submit(4, seconds: 100)
            await world.dispatcher.tickAndSettle(now: world.now)
            #expect(try await world.listedInstances().isEmpty, "lock before create")
            #expect(try await world.run { try await world.allFinal() }, "and once the queue is back, all runs")
            #expect(world.executor.startCount == 4)
        }
    }
}
