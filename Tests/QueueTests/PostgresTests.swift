import Foundation
import PostgresQueue
import Queue
import TestSupport
import Testing

/// Two dispatchers sharing one PostgreSQL queue, each with its own connection pool, as two
/// processes would.
@Suite struct PostgresSharingTests {
    func twoStores() async throws -> (PostgresContainerStore, PostgresContainerStore) {
        let url = try await StoreFixture.freshPostgresDatabase()
        let a = try await PostgresContainerStore.open(url: url, logger: StoreFixture.logger)
        let b = try await PostgresContainerStore.open(url: url, logger: StoreFixture.logger)
        return (a, b)
    }

    /// Which side wins a row is timing (a lock is a read and a conditional write, and either
    /// may come second every time in one batch), so batches race until both sides have won
    /// rows; every batch must lock each container exactly once.
    @Test func racingDispatchersNeverLockTheSameContainer() async throws {
        let (a, b) = try await twoStores()
        var winners = Set<String>()
        for _ in 0..<10 where winners.count < 2 {
            let uuids = try await a.submit((0..<200).map { _ in spec() }).map(\.uuid)
            // Both grab in small overlapping slices, many requests in flight on parallel connections.
            let slices = stride(from: 0, to: uuids.count, by: 10).map { Array(uuids[$0..<min($0 + 20, uuids.count)]) }
            let won = try await withThrowingTaskGroup(of: [(String, String)].self) { group in
                for slice in slices {
                    group.addTask { try await a.lock(slice.shuffled(), by: "dispatcher-a").map { ($0.uuid, "dispatcher-a") } }
                    group.addTask { try await b.lock(slice.shuffled(), by: "dispatcher-b").map { ($0.uuid, "dispatcher-b") } }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(won.count == uuids.count, "every container locked exactly once")
            #expect(Set(won.map(\.0)) == Set(uuids))
            let holder = Dictionary(won, uniquingKeysWith: { first, _ in first })
            for uuid in uuids.prefix(20) {
                #expect(try await b.get(uuid).lockedBy == holder[uuid])
            }
            winners.formUnion(won.map(\.1))
        }
        #expect(winners.count == 2, "both dispatchers got work")
        await a.close()
        await b.close()
    }

    @Test func aSubmitThroughOneWakesTheOther() async throws {
        let (a, b) = try await twoStores()
        // b's LISTEN comes up in the background, with a wake-up of its own: wait for that (a
        // submit before it would not be heard), then a submit through a must wake b.
        var up = false
        for _ in 0..<20 where !up {
            let early = b.changes()
            _ = try await a.submit([spec()])
            up = await yields(early, within: 1)
        }
        let wakeups = b.changes()
        let started = ContinuousClock.now
        _ = try await a.submit([spec()])
        #expect(await yields(wakeups, within: 60))
        print("NOTIFY wake-up across stores after \(ContinuousClock.now - started)")
        await a.close()
        await b.close()
    }

    @Test func anUnreachableServerIsAClearErrorAtOnce() async throws {
        await #expect { _ = try await PostgresContainerStore.open(url: "postgres://cd@127.0.0.1:1/queue?sslmode=disable") } throws: { error in
            let text = (error as? QueueError)?.description ?? ""
            return text.hasPrefix("queue store unavailable: cannot connect to queue database postgres://cd@127.0.0.1:1/queue")
                && text.lowercased().contains("connection refused")
        }
    }

    @Test func aBadURLIsAClearError() async throws {
        await #expect { _ = try await PostgresContainerStore.open(url: "mysql://x@y/z") } throws: { error in
            (error as? QueueError)?.description == "queue store unavailable: database URL must look like postgres://user@host:5432/dbname"
        }
    }
}
