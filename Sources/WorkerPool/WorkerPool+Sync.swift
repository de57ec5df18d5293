import DriverHost
import Scheduler

/// The cloud's view: which instances of this set exist. A listing of 10,000 instances costs the
/// host hundreds of milliseconds (the driver's reply read, checked and decoded), so after the
/// first one a pool with `listOffRound` sends it as a cloud call of its own and applies the
/// answer at the start of a later round. Such an answer is older than the pool's own view: an
/// instance that appeared after the listing was sent is missing from it, and is judged by when
/// the listing was sent, never by when it is applied (see `apply(_:listedAt:now:)`).
extension WorkerPool {
    enum Listing {
        case none
        case underWay
        case answered(Result<[Instance], DriverError>, listedAt: Double)
    }

    /// Adopts instances of this set it did not know (after a restart, or a create that
    /// "failed" but happened), and drops those the cloud no longer lists. Returns the containers
    /// that were running on dropped instances. With `listOffRound`, applies the listing that came
    /// back since the last round, if one did, and sends the next when it is due.
    public func sync(now: Double) async -> [String] {
        if case .answered(let answer, let listedAt) = listing {
            listing = .none
            return await apply(answer, listedAt: listedAt, now: now)
        }
        guard case .none = listing, now - lastSync >= settings.syncInterval else { return [] }
        lastSync = now
        _ = await loadIntents(now: now)  // before the listing: instances of open intents are ours to claim
        // The first listing is waited for: until it, the instances are not even known.
        guard settings.listOffRound && listedOnce else { return await apply(await list(), listedAt: now, now: now) }
        listing = .underWay
        inBackground { pool in pool.listing = .answered(await pool.list(), listedAt: now) }
        return []
    }

    /// One listing of this set's tag, paced like every cloud call.
    private func list() async -> Result<[Instance], DriverError> {
        await paced(.list)
        return await Self.listing(settings.setTag, settings.instanceSetID, from: instanceSet)
    }

    /// Out of the pool's isolation on purpose: the driver reads and checks the reply on its own threads.
    private static func listing(_ tag: String, _ id: String, from set: any InstanceSet) async -> Result<[Instance], DriverError> {
        do throws(DriverError) { return .success(try await set.list(tags: [tag: id])) } catch { return .failure(error) }
    }

    /// Applies a listing sent at `listedAt`. An instance it misses is gone if it was there when
    /// the listing was sent (one that appeared after cannot be in it) and was destroyed since or
    /// had been there `listGrace` seconds by then (clouds list new instances late).
    private func apply(_ answer: Result<[Instance], DriverError>, listedAt: Double, now: Double) async -> [String] {
        let listed: [Instance]
        switch answer {
        case .success(let instances):
            listed = instances
            lastListError = nil
            backoff.recordListSuccess()
        case .failure(let error):
            lastListError = "\(error)"
            recordFailure(error, type: nil, now: now)
            logger.warning("instance list failed; keeping the last known view", metadata: ["error": "\(error)"])
            return []
        }
        listedOnce = true
        var seen = Set<String>()
        for instance in listed {
            seen.insert(instance.id)
            if workers[instance.id] != nil {
                workers[instance.id]!.instance = instance
                continue
            }
            if let claimed = claimListed(instance, now: now) {
                workers[instance.id] = claimed
                continue
            }
            let typeName = instance.tags[settings.typeTag] ?? "?"
            let behavior = instance.tags[settings.behaviorTag].flatMap(WorkerView.IdleBehavior.init(rawValue:)) ?? .run
            workers[instance.id] = Worker(
                instance: instance, typeName: typeName, state: .unknown, behavior: behavior,
                appeared: now, lastBusy: now)
            logger.info("instance adopted", metadata: ["instance": "\(instance.id)", "type": "\(typeName)"])
        }
        var lost: [String] = []
        for (id, w) in workers.sorted(by: { $0.key < $1.key })
        where !seen.contains(id) && w.appeared <= listedAt && (w.destroyedAt != nil || listedAt - w.appeared >= settings.listGrace) {
            lost += w.running.keys
            noteEnded(w.running.keys, on: w)
            if w.destroying { bill(id, until: now) }  // its destroy's answer is still on the way
            workers[id] = nil
            await executor.instanceGone(id)
            logger.info("instance gone", metadata: ["instance": "\(id)", "containers_lost": "\(w.running.count)"])
        }
        await settleListed(listed)
        backoff.instanceCountChanged(workers.count)
        return lost
    }
}
