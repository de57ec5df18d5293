import Foundation
import PostgresQueue
import Queue
import TestSupport
import Testing

/// The single-row fast path under races: submits and transitions run in autocommit without a
/// row lock held between read and write, so concurrent writers (two stores, as two processes
/// would be) must still end with one container per request id and no lost or illegal change.
@Suite struct PostgresRaceTests {
    func twoStores() async throws -> (PostgresContainerStore, PostgresContainerStore) {
        let url = try await StoreFixture.freshPostgresDatabase()
        let a = try await PostgresContainerStore.open(url: url, logger: StoreFixture.logger)
        let b = try await PostgresContainerStore.open(url: url, logger: StoreFixture.logger)
        return (a, b)
    }

    /// Submits of one client request id from both stores at once, half with one spec and half
    /// with another: one spec wins and all its submitters get the same container; every other
    /// gets a conflict naming that container; one row per id.
    @Test func concurrentSubmitsOfOneClientRequestIDMakeOneContainer() async throws {
        let (a, b) = try await twoStores()
        let ids = (0..<30).map { "req-\($0)" }
        for id in ids {
            let outcomes = await withTaskGroup(of: (String, Result<String, QueueError>).self) { group in
                for i in 0..<8 {
                    let store = i % 2 == 0 ? a : b
                    let command = i < 4 ? "first" : "second"
                    group.addTask {
                        do throws(QueueError) {
                            return (command, .success(try await store.submit([spec(command, requestID: id)])[0].uuid))
                        } catch {
                            return (command, .failure(error))
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let stored = try await a.list(ContainerQuery()).items.filter { $0.clientRequestID == id }
            try #require(stored.count == 1, "one container for \(id)")
            let winner = stored[0]
            for (command, outcome) in outcomes {
                switch outcome {
                case .success(let uuid):
                    #expect(command == winner.command[0] && uuid == winner.uuid)
                case .failure(let error):
                    #expect(command != winner.command[0])
                    #expect(error == .conflict("client_request_id \(id) was used for \(winner.uuid) with a different spec"))
                }
            }
        }
        await a.close()
        await b.close()
    }

    /// `complete` by the holder and `cancel` by someone else, at once on each of many Running
    /// containers: exactly one wins, the other is refused from the winner's final state, and
    /// the row is the winner's.
    @Test func aTransitionRacingAnotherWriterHasOneWinner() async throws {
        let (a, b) = try await twoStores()
        let uuids = try await running(40, in: a)
        for uuid in uuids {
            async let completed = outcome { try await a.apply(.complete(by: "d1", exitCode: 0, log: nil, cost: 1), to: uuid) }
            async let cancelled = outcome { try await b.apply(.cancel(reason: "operator"), to: uuid) }
            let (done, gone) = await (completed, cancelled)
            let stored = try await a.get(uuid)
            switch (done, gone) {
            case (.success(let c), .failure(let error)):
                #expect(stored == c && c.state == .complete)
                #expect(error == .invalidTransition(uuid: uuid, from: .complete, event: "cancel"))
            case (.failure(let error), .success(let c)):
                #expect(stored == c && c.state == .cancelled)
                #expect(error == .invalidTransition(uuid: uuid, from: .cancelled, event: "complete"))
            default:
                Issue.record("\(uuid): complete \(done), cancel \(gone): not exactly one winner")
            }
        }
        await a.close()
        await b.close()
    }

    /// `start` and a priority change, at once on each of many Locked containers: both are legal
    /// in either order, so both succeed, and the row has both (the one that lost the write read
    /// again and applied itself to the other's result, instead of overwriting it).
    @Test func aTransitionThatLosesTheWriteRetriesOnTheNewRow() async throws {
        let (a, b) = try await twoStores()
        let uuids = try await locked(40, in: a)
        for uuid in uuids {
            async let started = outcome { try await a.apply(.start(by: "d1", instance: "i-1"), to: uuid) }
            async let raised = outcome { try await b.apply(.setPriority(7), to: uuid) }
            let (start, priority) = await (started, raised)
            #expect(throws: Never.self) { try start.get() }
            #expect(throws: Never.self) { try priority.get() }
            let stored = try await a.get(uuid)
            #expect(stored.state == .running && stored.instance == "i-1" && stored.priority == 7, "\(uuid): \(stored.state), priority \(stored.priority)")
        }
        await a.close()
        await b.close()
    }

    /// `lock` and a cancel or a priority change, at once on each of many Queued containers:
    /// the lock writes only over the row it decided on, so the other writer's change is never
    /// lost. A cancel always ends Cancelled (legal on Queued and on Locked); a priority change
    /// always lands, and the row is Locked exactly when the lock said it locked it.
    @Test func aLockRacingAnotherWriterNeverOverwritesIt() async throws {
        let (a, b) = try await twoStores()
        let uuids = try await a.submit((0..<60).map { _ in spec() }).map(\.uuid)
        for (i, uuid) in uuids.enumerated() {
            let cancels = i % 2 == 0
            async let locking = outcome { try await a.lock([uuid], by: "d1") }
            async let other = outcome { try await b.apply(cancels ? .cancel(reason: "operator") : .setPriority(7), to: uuid) }
            let (lock, change) = await (locking, other)
            let stored = try await a.get(uuid)
            #expect(throws: Never.self) { try change.get() }
            if cancels {
                #expect(stored.state == .cancelled, "\(uuid): the cancel was overwritten: \(stored.state)")
            } else {
                let lockedIt = try lock.get().map(\.uuid) == [uuid]
                #expect(stored.priority == 7, "\(uuid): the priority change was overwritten")
                #expect((stored.state == .locked) == lockedIt, "\(uuid): \(stored.state), lock returned \(lockedIt)")
            }
        }
        await a.close()
        await b.close()
    }

    func locked(_ n: Int, in store: PostgresContainerStore) async throws -> [String] {
        let uuids = try await store.submit((0..<n).map { _ in spec() }).map(\.uuid)
        #expect(try await store.lock(uuids, by: "d1").count == n)
        return uuids
    }

    func running(_ n: Int, in store: PostgresContainerStore) async throws -> [String] {
        let uuids = try await locked(n, in: store)
        for uuid in uuids { _ = try await store.apply(.start(by: "d1", instance: "i-1"), to: uuid) }
        return uuids
    }
}

private func outcome<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, QueueError> {
    do {
        return .success(try await body())
    } catch let error as QueueError {
        return .failure(error)
    } catch {
        return .failure(.unavailable("not a QueueError: \(error)"))
    }
}
