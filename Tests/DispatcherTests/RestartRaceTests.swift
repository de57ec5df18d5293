import Foundation
import Queue
import Synchronization
import Testing

/// A store that loses `start` and `unlock` events: the dispatcher "crashes" between starting a
/// container on a worker and recording it, so the queue still says Locked.
final class LosingStartsStore: ForwardingStore, @unchecked Sendable {
    override func apply(_ event: Event, to uuid: String) async throws(QueueError) -> Container {
        switch event {
        case .start, .unlock: throw .unavailable("the dispatcher died here")
        default: return try await inner.apply(event, to: uuid)
        }
    }
}

/// A store where a user cancels every container the moment the dispatcher has locked it.
final class CancelAfterLockStore: ForwardingStore, @unchecked Sendable {
    override func lock(_ uuids: [String], by d: String) async throws(QueueError) -> [Container] {
        let locked = try await inner.lock(uuids, by: d)
        for c in locked { _ = try await inner.apply(.cancel(reason: "cancelled by its user"), to: c.uuid) }
        return locked
    }
}

/// Containers Locked by a dispatcher that restarted, with no worker reporting them yet.
@Suite struct RestartRaceTests {
    /// Two idle workers, then a container started on one of them whose start was never recorded.
    func lockedButRunning(_ world: SimWorld, seconds: Int = 1800) async throws -> (uuid: String, worker: String) {
        try await world.submit(2, seconds: 60, vcpus: 2)
        #expect(try await world.run { try await world.allFinal() })
        world.restartDispatcher(store: LosingStartsStore(world.store))
        let uuid = try await world.submit(1, seconds: seconds, vcpus: 2)[0]
        #expect(try await world.run { world.executor.node(running: uuid) != nil })
        #expect(try await world.store.get(uuid).state == .locked)
        return (uuid, world.executor.node(running: uuid)!)
    }

    @Test func aLockedContainerIsNotStartedElsewhereWhileItsWorkerIsUnheardFrom() async throws {
        try await withWorld(await SimWorld(limits: .init(maxInstances: 20, idleTimeout: 100_000), bootDelay: 30...30)) { world in
            let (uuid, worker) = try await lockedButRunning(world)
            world.executor.partition(worker, until: world.now + 200)
            world.cloud.failNextLists(3)  // the new dispatcher cannot even list at first
            world.restartDispatcher()
            _ = try await world.run(limit: 150) { false }
            #expect(world.executor.violations.isEmpty, "\(world.executor.violations)")
            #expect(try await world.store.get(uuid).state == .locked, "not unlocked while its worker may still report it")
            #expect(try await world.run { try await world.store.get(uuid).state == .running }, "adopted once the worker answers")
            #expect(try await world.run { try await world.allFinal() })
            let c = try await world.store.get(uuid)
            #expect(c.state == .complete && c.lockCount == 0 && c.instance?.hasSuffix(worker) == true)
            #expect(world.executor.startCount == 3, "started once")
            #expect(world.executor.violations.isEmpty)
        }
    }

    @Test func aContainerThatEndedWhileItsStartWasUnrecordedKeepsItsResult() async throws {
        try await withWorld(await SimWorld(limits: .init(maxInstances: 20, idleTimeout: 100_000), bootDelay: 30...30)) { world in
            let (uuid, worker) = try await lockedButRunning(world, seconds: 100)
            world.executor.partition(worker, until: world.now + 300)  // it ends before anyone hears of it
            world.restartDispatcher()
            #expect(try await world.run { try await world.allFinal() })
            let c = try await world.store.get(uuid)
            #expect(c.state == .complete && c.exitCode == 0 && c.lockCount == 0, "\(c.state) \(c.lockCount)")
            #expect(c.instance?.hasSuffix(worker) == true)
            #expect(world.executor.startCount == 3, "not run again")
        }
    }

    @Test func aContainerCancelledBetweenLockAndStartIsNotStarted() async throws {
        try await withWorld(await SimWorld(limits: .init(maxInstances: 20, idleTimeout: 60), bootDelay: 30...30)) { world in
            try await world.submit(1, seconds: 60, vcpus: 2)
            #expect(try await world.run { try await world.allFinal() })  // an idle worker is ready
            world.restartDispatcher(store: CancelAfterLockStore(world.store))
            let uuid = try await world.submit(1, seconds: 600, vcpus: 2)[0]
            #expect(try await world.run { try await world.allFinal() })
            let c = try await world.store.get(uuid)
            #expect(c.state == .cancelled && c.runtimeStatus.error == "cancelled by its user", "\(c.state) \(c.runtimeStatus)")
            #expect(world.executor.startCount == 1, "only the first container started")
            #expect(try await world.run { await world.dispatcher.pool.instanceCount == 0 }, "its idle worker is shut down")
        }
    }

    @Test func aStaleLockIsGivenBackOnceEveryWorkerIsKnown() async throws {
        try await withWorld(await SimWorld(limits: .init(maxInstances: 20, idleTimeout: 100_000), bootDelay: 30...30)) { world in
            let (uuid, worker) = try await lockedButRunning(world)
            world.executor.kill(worker)  // it will never answer: shut down after boot_timeout
            world.restartDispatcher()
            _ = try await world.run(limit: 250) { false }
            #expect(try await world.store.get(uuid).state == .locked, "held while a worker is unknown")
            #expect(try await world.run { try await world.allFinal() })
            let c = try await world.store.get(uuid)
            #expect(c.state == .complete && c.lockCount == 1, "unlocked once (an attempt counted), then run")
            #expect(c.runtimeStatus.warning?.contains("locked before a dispatcher restart") == true, "\(c.runtimeStatus)")
            #expect(world.executor.violations.isEmpty)
        }
    }
}
