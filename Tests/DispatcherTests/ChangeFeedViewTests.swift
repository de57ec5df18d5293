import Foundation
import Logging
import PostgresNIO
import Queue
import SQLiteQueue
import Simulation
import TestSupport
import Testing

@testable import PostgresQueue
@testable import WorkerPool

/// The dispatcher's view of the active queue, kept up to date from the store's change feed,
/// against a full read of the store, after every round of a random history: submits, locks,
/// starts, completes, cancels, unlocks, requeues, priority and status changes, by this
/// dispatcher and by another one. On PostgreSQL, writers also hold transactions open across
/// rounds and commit out of order (the one that began first commits last).
@Suite struct ChangeFeedViewTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    static let me = "feed-me"
    static let other = "feed-other"
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    @Test(arguments: Kind.allCases, [1, 2, 3] as [UInt64])
    func theViewEqualsAFullReadAfterEveryRound(kind: Kind, seed: UInt64) async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let url = kind == .postgres ? try await PostgresScratch.database() : nil
        let store: any ContainerStore =
            if let url { try await PostgresContainerStore.open(url: url, logger: Self.logger) } else {
                try SQLiteContainerStore.open(path: folder + "/queue.sqlite3")
            }
        var history = History(store: store, url: url, random: SeededRandom(seed: seed))
        do {
            var view = ActiveQueue<Dispatcher.ActiveContainer>(dispatcher: Self.me)
            var rounds = 0
            var changesRead = 0
            for step in 0..<240 {
                try await history.step(number: step)
                guard history.random.chance(0.3) else { continue }
                let read = try await view.refresh(from: store, full: rounds == 0, now: Double(step))
                rounds += 1
                if !read.fullRead { changesRead += read.rows }
                let expected = try await Self.fullRead(store)
                #expect(
                    view.containers == expected,
                    "after round \(rounds) (step \(step)): \(Self.difference(view.containers, expected))")
                if view.containers != expected { break }
            }
            try await history.commitAll()
            _ = try await view.refresh(from: store, full: false, now: 1000)
            #expect(view.containers == (try await Self.fullRead(store)), "after the last commits")
            #expect(rounds > 40 && changesRead > 100, "the history exercised the feed: \(rounds) rounds, \(changesRead) changes")
            if kind == .postgres { #expect(history.outOfOrderCommits > 0, "transactions committed out of order") }
        } catch {
            try? await history.commitAll()
            await store.close()
            throw error
        }
        await store.close()
    }

    /// What the dispatcher read each round before the change feed: every page of Queued,
    /// Locked and Running containers, those Queued or held by this dispatcher.
    static func fullRead(_ store: any ContainerStore) async throws -> [Dispatcher.ActiveContainer] {
        var all: [Dispatcher.ActiveContainer] = []
        var after: String?
        repeat {
            let page = try await store.summaries(ContainerQuery(states: [.queued, .locked, .running], after: after, limit: 7))
            for c in page.items where c.state == .queued || c.lockedBy == me { all.append(Dispatcher.ActiveContainer(c)) }
            after = page.next
        } while after != nil
        return all.sorted { $0.demand.uuid < $1.demand.uuid }
    }

    static func difference(_ view: [Dispatcher.ActiveContainer], _ expected: [Dispatcher.ActiveContainer]) -> String {
        let seen = Set(view)
        let wanted = Set(expected)
        let missing = expected.filter { !seen.contains($0) }.map { "\($0.demand.uuid) \($0.state) p\($0.demand.priority)" }
        let extra = view.filter { !wanted.contains($0) }.map { "\($0.demand.uuid) \($0.state) p\($0.demand.priority)" }
        return "missing \(missing), not expected \(extra), order same: \(view.map(\.demand.uuid) == expected.map(\.demand.uuid))"
    }
}

/// A random history of writes to one store. On PostgreSQL some writes go through transactions
/// of their own, held open while others commit.
struct History {
    let store: any ContainerStore
    let url: String?
    var random: SeededRandom
    /// Open transactions, oldest first: the connection and the container it wrote.
    var open: [(connection: PostgresConnection, uuid: String)] = []
    var outOfOrderCommits = 0
    static let dispatchers = [ChangeFeedViewTests.me, ChangeFeedViewTests.other]

    init(store: any ContainerStore, url: String?, random: SeededRandom) {
        self.store = store
        self.url = url
        self.random = random
    }

    mutating func step(number: Int) async throws {
        let all = try await everyContainer()
        let held = Set(open.map(\.uuid))  // another transaction holds these rows: writing them would wait
        func pick(_ states: Set<ContainerState>) -> Container? {
            all.filter { states.contains($0.state) && !held.contains($0.uuid) }.randomElement(using: &random)
        }
        let dispatcher = History.dispatchers.randomElement(using: &random)!
        switch Int.random(in: 0..<12, using: &random) {
        case 0, 1:
            let specs = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                ContainerSpec(
                    command: ["true"], priority: Int.random(in: 0...5, using: &random),
                    runtimeConstraints: RuntimeConstraints(vcpus: Int.random(in: 1...4, using: &random)))
            }
            _ = try await store.submit(specs)
        case 2, 3:
            if let c = pick([.queued]) { _ = try await store.lock([c.uuid], by: dispatcher) }
        case 4:
            if let c = pick([.locked]) { _ = try? await store.apply(.start(by: c.lockedBy!, instance: "small i-1"), to: c.uuid) }
        case 5:
            if let c = pick([.running]) {
                _ = try? await store.apply(.complete(by: c.lockedBy!, exitCode: 0, log: nil, cost: 0.1), to: c.uuid)
            }
        case 6:
            if let c = pick([.queued, .locked, .running]) { _ = try? await store.apply(.cancel(reason: "by its user"), to: c.uuid) }
        case 7:
            if let c = pick([.queued, .locked, .running]) {
                _ = try? await store.apply(.setPriority(Int.random(in: 0...9, using: &random)), to: c.uuid)
            }
        case 8:
            if let c = pick([.locked]) { _ = try? await store.apply(.unlock(by: c.lockedBy!, reason: "no room"), to: c.uuid) }
            if let c = pick([.running]) { _ = try? await store.apply(.requeue(by: c.lockedBy!, reason: "lost"), to: c.uuid) }
        case 9:
            let waiting = all.filter { ($0.state == .queued || $0.state == .locked) && !held.contains($0.uuid) }.prefix(5)
            try await store.setSchedulingStatus(
                Dictionary(uniqueKeysWithValues: waiting.map { ($0.uuid, "waiting \(Int.random(in: 0...3, using: &random))") }), by: "d1")
        default:
            try await slowWrite(all.filter { !held.contains($0.uuid) })
        }
        // The classic miss: a transaction that began first commits after a later one was read.
        if number % 40 == 20 && url != nil {
            try await slowWrite(try await everyContainer().filter { c in !open.contains { $0.uuid == c.uuid } }, commitOthers: false)
            try await slowWrite(try await everyContainer().filter { c in !open.contains { $0.uuid == c.uuid } }, commitOthers: false)
        }
    }

    /// PostgreSQL: begins a transaction of its own that writes one container (new, or a change
    /// of priority or a cancel) and stays open; may commit some of the open ones, in any order.
    mutating func slowWrite(_ candidates: [Container], commitOthers: Bool = true) async throws {
        guard let url else { return }
        if commitOthers && !open.isEmpty && random.chance(0.6) {
            let i = Int.random(in: 0..<open.count, using: &random)
            if i < open.count - 1 { outOfOrderCommits += 1 }  // a later one is still open
            let (connection, _) = open.remove(at: i)
            try await connection.query("COMMIT", logger: ChangeFeedViewTests.logger)
            try await connection.close()
            return
        }
        let config = try PostgresURL(url).connectionConfiguration()
        let connection = try await PostgresConnection.connect(
            on: NIOSingletons.posixEventLoopGroup.any(), configuration: config, id: open.count, logger: ChangeFeedViewTests.logger)
        try await connection.query("BEGIN", logger: ChangeFeedViewTests.logger)
        let active = candidates.filter { !$0.state.isFinal }
        var c: Container
        if let existing = active.randomElement(using: &random), random.chance(0.7) {
            c = existing
            if random.chance(0.5) {
                c.priority = Int.random(in: 0...9, using: &random)
            } else {
                c.state = .cancelled
                c.lockedBy = nil
            }
            try await connection.query(
                """
                UPDATE containers SET state = \(c.state.rawValue), priority = \(c.priority), locked_by = \(c.lockedBy),
                    doc = \(ContainerCodec.encode(c)) WHERE uuid = \(c.uuid)
                """, logger: ChangeFeedViewTests.logger)
        } else {
            c = ContainerFactory.make(ContainerSpec(command: ["true"], priority: 2), now: Timestamp.now())
            try await connection.query(
                """
                INSERT INTO containers (uuid, state, priority, locked_by, client_request_id, modified_at, doc)
                VALUES (\(c.uuid), \(c.state.rawValue), \(c.priority), NULL, NULL, now(), \(ContainerCodec.encode(c)))
                """, logger: ChangeFeedViewTests.logger)
        }
        open.append((connection, c.uuid))
    }

    /// Commits every open transaction, the newest first.
    mutating func commitAll() async throws {
        while let (connection, _) = open.popLast() {
            if !open.isEmpty { outOfOrderCommits += 1 }
            try await connection.query("COMMIT", logger: ChangeFeedViewTests.logger)
            try await connection.close()
        }
    }

    func everyContainer() async throws -> [Container] {
        var all: [Container] = []
        var after: String?
        repeat {
            let page = try await store.list(ContainerQuery(after: after, limit: 1000))
            all += page.items
            after = page.next
        } while after != nil
        return all
    }
}
