import Foundation
import Queue
import Scheduler

/// Containers that arrive between rounds start at once when a ready worker has room the last
/// round left free (`FreeRoom`): at 100,000 waiting a round takes most of a second, and a
/// submit should not wait for one. Nothing else happens here; what does not fit waits for the
/// next round, which plans it with everything else.
///
/// Arrivals and rounds interleave: a round reads the queue, plans for a while, then carries its
/// plan out. Placing arrivals and carrying out take turns on `gate`; what arrivals took after
/// a round's read is kept in `placedSinceRead`, and that round's plan yields to it
/// (`Plan.yielding(toArrivals:on:)`) before it is carried out, so no worker gets more than its
/// room and nothing starts twice.
extension Dispatcher {
    struct Arrivals {
        /// What the last carried-out round left free, and where in the change feed its read
        /// ended (arrivals are what changed since); nil before the first round.
        var room: (free: FreeRoom, cursor: ChangeCursor?)?
        /// Placed since the current round read the queue (that round's plan knows nothing of them).
        var placedSinceRead: (containers: Set<String>, workers: Set<String>) = ([], [])
    }

    /// Starts the containers queued since the last look on room the last round left free.
    /// Runs on queue wake-ups, beside the rounds (`DispatchLoop`).
    public func placeArrivals(now: Double) async {
        guard !drainOnly else { return }
        await gate.run {
            guard let (free, cursor) = arrivals.withLock({ $0.room }), let cursor else { return }
            let changes: ContainerChanges
            do { changes = try await store.summaries(changedSince: cursor) } catch {
                logger.debug("cannot read arrivals; the next round plans them", metadata: ["error": "\(error)"])
                return
            }
            var room = free
            defer { arrivals.withLock { $0.room = (room, changes.cursor) } }
            let queued = changes.items.filter { $0.state == .queued }
            guard !queued.isEmpty else { return }
            // One hop to the pool (a round may hold it): a worker shut down or drained since the
            // round would only refuse the start, and a container with a copy still running is
            // the round's to stop first. Room given to a refused start stays taken until the round.
            let starts = await pool.admitting(room.place(queued.map { Dispatcher.demand(of: $0, state: .queued) }))
            guard !starts.isEmpty else { return }
            let locked: Set<String>
            do { locked = Set(try await store.lock(starts.map(\.uuid), by: id).map(\.uuid)) } catch {
                logger.warning("could not lock arrivals; the next round plans them", metadata: ["error": "\(error)"])
                return
            }
            lockedHere.withLock { $0.formUnion(locked) }
            for start in starts where locked.contains(start.uuid) {
                arrivals.withLock {
                    $0.placedSinceRead.containers.insert(start.uuid)
                    $0.placedSinceRead.workers.insert(start.worker)
                }
                if let submitted = await self.start(start, now: now) {
                    metrics?.started(waited: now - submitted.timeIntervalSince1970)
                }
            }
        }
    }
}
