import Foundation
import Queue
import TestSupport
import Testing

/// The behaviour every store must have, run against SQLite and PostgreSQL alike.
@Suite struct StoreSuiteTests {
    @Test(arguments: StoreKind.allCases)
    func submitStoresAQueuedContainerWithDefaults(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let made = try await store.submit([ContainerSpec(command: ["echo", "hi"], environment: ["A": "1"])])
            let c = try #require(made.first)
            #expect(UUIDGenerator.isWellFormed(c.uuid))
            #expect(c.state == .queued && c.priority == 1 && c.lockCount == 0 && c.cwd == "/")
            #expect(c.runtimeConstraints == RuntimeConstraints(vcpus: 1, ram: 256 << 20))
            let fetched = try await store.get(c.uuid)
            #expect(fetched == c)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aBatchWithOneBadSpecStoresNothing(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var bad = spec()
            bad.runtimeConstraints.vcpus = 0
            await #expect(throws: QueueError.validation([FieldProblem(field: "[1].runtime_constraints.vcpus", rule: "must be from 1 to 1024")])) {
                try await store.submit([spec(), bad, spec()])
            }
            let stored = try await store.list(ContainerQuery()).items
            #expect(stored.isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aClientRequestIDMakesSubmitIdempotent(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let first = try await store.submit([spec(requestID: "req-1")])
            let again = try await store.submit([spec(requestID: "req-1")])
            #expect(first.map(\.uuid) == again.map(\.uuid))
            #expect(try await store.list(ContainerQuery()).items.count == 1)
            await #expect { try await store.submit([spec("other", requestID: "req-1")]) } throws: { error in
                guard case .conflict(let message)? = error as? QueueError else { return false }
                return message.contains("client_request_id req-1 was used for \(first[0].uuid)")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func unknownContainersAreNotFound(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            await #expect(throws: QueueError.notFound(uuid: "ctr-missing")) { try await store.get("ctr-missing") }
            await #expect(throws: QueueError.notFound(uuid: "ctr-missing")) { try await store.apply(.cancel(reason: "x"), to: "ctr-missing") }
        }
    }

    /// Every (state, event) pair, against the table in `Transition`.
    @Test(arguments: StoreKind.allCases)
    func theStateMachineTable(kind: StoreKind) async throws {
        let d = "dispatcher-1"
        let events: [(String, Event)] = [
            ("lock", .lock(by: d)), ("unlock", .unlock(by: d, reason: "r")), ("requeue", .requeue(by: d, reason: "r")),
            ("start", .start(by: d, instance: "small i-1")), ("complete", .complete(by: d, exitCode: 0, log: nil, cost: 0.5)),
            ("cancel", .cancel(reason: "stop")), ("priority", .setPriority(7)),
        ]
        // expected[state][event] = resulting state, or nil when the event is refused
        let expected: [ContainerState: [String: ContainerState]] = [
            .queued: ["lock": .locked, "cancel": .cancelled, "priority": .queued],
            .locked: ["unlock": .queued, "start": .running, "cancel": .cancelled, "priority": .locked],
            .running: ["requeue": .queued, "complete": .complete, "cancel": .cancelled, "priority": .running],
            .complete: [:],
            .cancelled: [:],
        ]
        try await withStore(kind) { store in
            for state in ContainerState.allCases {
                for (name, event) in events {
                    let c = try await containerIn(state, store: store, dispatcher: d)
                    let outcome: ContainerState?
                    do {
                        outcome = try await store.apply(event, to: c.uuid).state
                    } catch let error as QueueError {
                        guard case .invalidTransition(c.uuid, state, name) = error else {
                            Issue.record("\(state) + \(name): unexpected \(error)")
                            continue
                        }
                        outcome = nil
                    }
                    #expect(outcome == expected[state]![name], "\(state.rawValue) + \(name)")
                    if outcome == nil {
                        #expect(try await store.get(c.uuid).state == state, "a refused event changes nothing")
                    }
                }
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func onlyTheLockHolderMovesALockedContainer(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let c = try await containerIn(.locked, store: store, dispatcher: "a")
            await #expect(throws: QueueError.notLockHolder(uuid: c.uuid, holder: "a", caller: "b")) {
                try await store.apply(.start(by: "b", instance: "x"), to: c.uuid)
            }
            let started = try await store.apply(.start(by: "a", instance: "small i-9"), to: c.uuid)
            #expect(started.state == .running && started.instance == "small i-9" && started.startedAt != nil)
            let done = try await store.apply(.complete(by: "a", exitCode: 3, log: "bye\n", cost: 0.25), to: c.uuid)
            #expect(done.state == .complete && done.exitCode == 3 && done.log == "bye\n" && done.cost == 0.25 && done.finishedAt != nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func attemptsAreCountedAndRunOut(kind: StoreKind) async throws {
        try await withStore(kind, policy: QueuePolicy(maxDispatchAttempts: 3)) { store in
            let c = try await store.submit([spec()])[0]
            for attempt in 1...2 {
                _ = try await store.lock([c.uuid], by: "d")
                let back = try await store.apply(.unlock(by: "d", reason: "instance gone"), to: c.uuid)
                #expect(back.state == .queued && back.lockCount == attempt && back.lockedBy == nil)
            }
            _ = try await store.lock([c.uuid], by: "d")
            _ = try await store.apply(.start(by: "d", instance: "i"), to: c.uuid)
            let last = try await store.apply(.requeue(by: "d", reason: "runner died"), to: c.uuid)
            #expect(last.state == .cancelled && last.lockCount == 3)
            #expect(last.runtimeStatus.error == "gave up after 3 dispatch attempts; last: runner died")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentLocksNeverLockAContainerTwice(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let uuids = try await store.submit((0..<60).map { _ in spec() }).map(\.uuid)
            let results = try await withThrowingTaskGroup(of: (String, [String]).self) { group in
                for d in 0..<6 {
                    group.addTask { ("d\(d)", try await store.lock(uuids.shuffled(), by: "d\(d)").map(\.uuid)) }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            let all = results.values.flatMap { $0 }
            #expect(all.count == uuids.count, "each container locked exactly once")
            #expect(Set(all) == Set(uuids))
            for (d, locked) in results {
                for uuid in locked.prefix(3) { #expect(try await store.get(uuid).lockedBy == d) }
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func listFiltersAndPagesInSubmitOrder(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let made = try await store.submit((0..<25).map { spec(priority: $0 % 5) })
            _ = try await store.apply(.cancel(reason: "x"), to: made[3].uuid)
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await store.list(ContainerQuery(after: cursor, limit: 10))
                seen += page.items.map(\.uuid)
                cursor = page.next
            } while cursor != nil
            #expect(seen == made.map(\.uuid))
            let queuedHigh = try await store.list(ContainerQuery(states: [.queued], minPriority: 3, limit: 100)).items
            #expect(queuedHigh.count == 9 && queuedHigh.allSatisfy { $0.priority >= 3 && $0.state == .queued })
            let cancelled = try await store.list(ContainerQuery(states: [.cancelled])).items
            #expect(cancelled.map(\.uuid) == [made[3].uuid])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func summariesPageLikeListAndCarryWhatSchedulingNeeds(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var gpu = spec(priority: 7, vcpus: 4)
            gpu.runtimeConstraints.gpu = GPURequirement(count: 2, stack: "cuda", vram: 16 << 30)
            gpu.runtimeConstraints.scratch = 100 << 30
            gpu.schedulingParameters = SchedulingParameters(preemptible: true, maxRunTime: 600, instanceTypes: ["big", "bigger"])
            let made = try await store.submit([gpu] + (0..<11).map { spec(priority: $0 % 3) })
            _ = try await store.lock([made[1].uuid], by: "d1")
            _ = try await store.apply(.cancel(reason: "x"), to: made[2].uuid)
            try await store.setSchedulingStatus([made[0].uuid: "at max_instances (3); 100+ waiting ahead of it"], by: "d1")
            for query in [ContainerQuery(limit: 5), ContainerQuery(states: [.queued, .locked], limit: 4), ContainerQuery(minPriority: 1, limit: 3)] {
                var fromList: [ContainerSummary] = []
                var fromSummaries: [ContainerSummary] = []
                var cursor: String?
                repeat {
                    var q = query
                    q.after = cursor
                    let page = try await store.summaries(q)
                    let listed = try await store.list(q)
                    #expect(page.next == listed.next)
                    fromSummaries += page.items
                    fromList += listed.items.map(ContainerSummary.init)
                    cursor = page.next
                } while cursor != nil
                #expect(fromSummaries == fromList)
                #expect(!fromSummaries.isEmpty)
            }
            let first = try await store.summaries(ContainerQuery(limit: 1)).items[0]
            #expect(first.uuid == made[0].uuid && first.priority == 7 && first.state == .queued && first.lockedBy == nil)
            #expect(first.runtimeConstraints == gpu.runtimeConstraints && first.schedulingParameters == gpu.schedulingParameters)
            #expect(first.schedulingStatus == "at max_instances (3); 100+ waiting ahead of it")
            #expect(first.createdAt == made[0].createdAt)
            #expect(try await store.summaries(ContainerQuery(states: [.locked])).items.map(\.lockedBy) == ["d1"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func schedulingStatusIsRecordedForWaitingContainersOnly(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let waiting = try await store.submit([spec()])[0]
            let done = try await store.apply(.cancel(reason: "x"), to: try await store.submit([spec()])[0].uuid)
            try await store.setSchedulingStatus([waiting.uuid: "waiting for a small instance to boot", done.uuid: "x", "ctr-none": "y"], by: "d1")
            #expect(try await store.get(waiting.uuid).runtimeStatus.schedulingStatus == "waiting for a small instance to boot")
            #expect(try await store.get(done.uuid).runtimeStatus.schedulingStatus == nil)
            // Set in place in the stored JSON: odd characters survive, the rest of the record is
            // untouched, and a later transition still reads and writes it whole.
            let odd = #"at "max_instances" (3) \ é/ü; 1200+ waiting ahead of it"#
            try await store.setSchedulingStatus([waiting.uuid: odd], by: "d1")
            let read = try await store.get(waiting.uuid)
            #expect(read.runtimeStatus.schedulingStatus == odd)
            #expect(read.command == waiting.command && read.environment == waiting.environment && read.createdAt == waiting.createdAt)
            let locked = try await store.lock([waiting.uuid], by: "d1")
            #expect(locked.first?.state == .locked)
            #expect(try await store.get(waiting.uuid).runtimeStatus.schedulingStatus == odd)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aSubmitWakesTheChangeStream(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let wakeups = store.changes()
            _ = try await store.submit([spec()])
            #expect(await yields(wakeups, within: 60), "a loaded machine may take seconds to bring LISTEN up")
        }
    }
}

/// A fresh container brought into `state` through legal events.
func containerIn(_ state: ContainerState, store: any ContainerStore, dispatcher d: String) async throws -> Container {
    var c = try await store.submit([spec()])[0]
    switch state {
    case .queued: break
    case .locked: c = try await store.lock([c.uuid], by: d)[0]
    case .running:
        _ = try await store.lock([c.uuid], by: d)
        c = try await store.apply(.start(by: d, instance: "i"), to: c.uuid)
    case .complete:
        _ = try await store.lock([c.uuid], by: d)
        _ = try await store.apply(.start(by: d, instance: "i"), to: c.uuid)
        c = try await store.apply(.complete(by: d, exitCode: 0, log: nil, cost: 0), to: c.uuid)
    case .cancelled: c = try await store.apply(.cancel(reason: "x"), to: c.uuid)
    }
    return c
}
