/// Containers asked to stop (cancelled, or priority 0). The stop is sent again every round (the
/// executor turns repeats into TERM, then KILL); one still running `termTimeout` after the
/// first request has its worker drained: nothing new lands there, and it is shut down once
/// empty — or, if those containers still will not die after twice `termTimeout`, shut down
/// with them (they are Cancelled already; a VM kept for them would only cost money).
extension WorkerPool {
    public func stop(_ uuid: String, now: Double) async {
        guard let w = workers.values.first(where: { $0.running[uuid] != nil }) else { return }
        if stopping[uuid] == nil { stopping[uuid] = StopRequest(first: now) }
        await executor.stop(uuid, on: w.instance, now: now)
    }

    /// Containers still running `termTimeout` after their first stop request, each reported
    /// once, with the worker it runs on — now draining.
    public func overdueStops(now: Double) async -> [(uuid: String, worker: String)] {
        guard !stopping.isEmpty else { return [] }  // the common case: no walk over every worker
        let placed = placements()
        stopping = stopping.filter { placed[$0.key] != nil }  // those that ended are done
        var overdue: [(uuid: String, worker: String)] = []
        for (uuid, request) in stopping.sorted(by: { $0.key < $1.key })
        where !request.reported && now - request.first >= settings.termTimeout {
            stopping[uuid]?.reported = true
            let worker = placed[uuid]!.worker
            overdue.append((uuid, worker))
            if workers[worker]?.behavior == .run { await setBehavior(worker, .drain) }
        }
        return overdue
    }

    /// Shuts down drained workers whose only remaining containers have ignored their stop for
    /// twice `termTimeout`. Work of other containers there is waited for.
    public func shutDownStuckWorkers(now: Double) async {
        guard !stopping.isEmpty else { return }
        let placed = placements()
        var stuck = Set<String>()
        for (uuid, request) in stopping where request.reported && now - request.first >= 2 * settings.termTimeout {
            if let worker = placed[uuid]?.worker { stuck.insert(worker) }
        }
        for id in stuck.sorted() {
            guard let w = workers[id], w.destroyedAt == nil,
                w.running.keys.allSatisfy({ stopping[$0]?.reported == true })
            else { continue }
            await shutdown(id, reason: "its containers ignored TERM and KILL for \(Int(2 * settings.termTimeout))s", now: now)
        }
    }
}

struct StopRequest {
    var first: Double
    var reported = false
}
