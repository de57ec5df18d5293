import Foundation
import Queue
import Testing

/// `interrupted`: a run the infrastructure ended goes back to the queue without spending the
/// container's attempt budget, and each interruption makes the next run a distinct one.
@Suite struct InterruptedEventTests {
    @Test(arguments: StoreKind.allCases)
    func anInterruptionRequeuesWithoutCountingAnAttempt(kind: StoreKind) async throws {
        try await withStore(kind, policy: QueuePolicy(maxDispatchAttempts: 2)) { store in
            let c = try await store.submit([spec()])[0]
            for round in 1...3 {  // more interruptions than the budget has attempts
                _ = try await store.lock([c.uuid], by: "d")
                if round.isMultiple(of: 2) { _ = try await store.apply(.start(by: "d", instance: "node-1"), to: c.uuid) }
                let back = try await store.apply(.interrupted(by: "d", reason: "node_fail on node-1"), to: c.uuid)
                #expect(back.state == .queued && back.lockCount == 0 && back.interruptions == round)
                #expect(back.lockedBy == nil && back.instance == nil && back.startedAt == nil)
                #expect(back.runtimeStatus.warning == "interrupted, not counted as an attempt: node_fail on node-1")
            }
            #expect(try await store.get(c.uuid).interruptions == 3)
        }
    }

    @Test func onlyTheLockHolderInterruptsAndOnlyALockedOrRunningContainer() throws {
        let now = Date(timeIntervalSince1970: 1_000)
        var c = ContainerFactory.make(ContainerSpec(command: ["true"]), now: now)
        #expect(throws: QueueError.invalidTransition(uuid: c.uuid, from: .queued, event: "interrupted")) {
            try Transition.apply(.interrupted(by: "d", reason: "r"), to: c, now: now, maxAttempts: 5)
        }
        c = try Transition.apply(.lock(by: "d"), to: c, now: now, maxAttempts: 5)
        #expect(throws: QueueError.notLockHolder(uuid: c.uuid, holder: "d", caller: "e")) {
            try Transition.apply(.interrupted(by: "e", reason: "r"), to: c, now: now, maxAttempts: 5)
        }
        let back = try Transition.apply(.interrupted(by: "d", reason: "preempted"), to: c, now: now, maxAttempts: 5)
        #expect(back.state == .queued && back.lockCount == 0 && back.interruptions == 1)
    }
}
