import Foundation
import Queue
import Scheduler
import Synchronization
import Testing

/// A store whose change feed fails the next N reads.
final class FailingFeedStore: ForwardingStore, @unchecked Sendable {
    let failures = Mutex(0)

    override func summaries(changedSince c: ChangeCursor) async throws(QueueError) -> ContainerChanges {
        if failures.withLock({ n in defer { n = max(0, n - 1) }; return n > 0 }) { throw .unavailable("simulated outage") }
        return try await inner.summaries(changedSince: c)
    }
}

/// When a round reads the whole active queue instead of what changed: first, after a read
/// error, every `fullReadInterval`, and when asked.
@Suite struct FullReadTests {
    @Test func aRoundReadsWhatChangedBetweenFullReads() async throws {
        try await withWorld(await SimWorld()) { world in
            let store = FailingFeedStore(world.store)
            world.restartDispatcher(store: store)
            try await world.submit(3)
            func round(_ step: Double = 10) async -> (full: Bool, rows: Int) {
                await world.dispatcher.tickAndSettle(now: world.now)
                world.now += step
                let t = world.dispatcher.lastRoundTimings
                return (t.fullRead, t.rowsRead)
            }
            #expect(await round() == (true, 3), "the first round reads the whole queue")
            #expect(await round().full == false, "the next reads what changed")
            try await world.submit(2)
            let next = await round()
            #expect(next.full == false && next.rows >= 2, "two new containers come as changes")

            store.failures.withLock { $0 = 1 }
            #expect(await round().full == false, "a failed read of changes...")
            #expect(await round().full, "...is followed by a full read")
            #expect(await round().full == false)

            world.dispatcher.readWholeQueueNextRound()
            #expect(await round(300).full, "asked for")
            #expect(await round().full, "and every fullReadInterval (300 s) of the round clock")
            #expect(await round().full == false)
            #expect(try await world.run { try await world.allFinal() }, "and the work gets done")
        }
    }

    /// Statuses are written only when they change: once written, a round over a quiet queue
    /// writes none, so the next round reads no changed row; a change ahead writes again.
    @Test func unchangedStatusesAreNotWrittenAgain() async throws {
        try await withWorld(await SimWorld(limits: Limits(maxInstances: 0))) { world in
            let uuids = try await world.submit(3).sorted()  // one batch: served in uuid order
            func round() async -> Int {
                await world.dispatcher.tickAndSettle(now: world.now)
                world.now += 10
                return world.dispatcher.lastRoundTimings.rowsRead
            }
            _ = await round()  // the full read, and the first statuses written
            #expect(try await world.store.get(uuids[2]).runtimeStatus.schedulingStatus == "at max_instances (0); 2 waiting ahead of it")
            #expect(await round() == 3, "the statuses written last round come back as changes")
            #expect(await round() == 0, "nothing changed, so nothing was written")
            _ = try await world.store.apply(.cancel(reason: "test"), to: uuids[0])
            #expect(await round() == 1, "the cancel")
            #expect(await round() == 2, "the two behind it moved up: their statuses were written")
            #expect(try await world.store.get(uuids[2]).runtimeStatus.schedulingStatus == "at max_instances (0); 1 waiting ahead of it")
        }
    }
}
