import DriverHost

/// The workers' view: what each worker runs and what ended there. Probing 10,000 workers takes
/// as long as its slowest answer (an SSH peer that hangs is waited for up to its command
/// timeout), so after the first probes a pool with `probeOffRound` sends them and lets the
/// round go on, and applies the answers at the start of a later round. An answer is older than the pool's own view: a
/// start since it was sent is kept (`startedDuringProbe`), and the worker is judged by when
/// the probe was sent.
extension WorkerPool {
    enum Probing {
        case none
        case underWay
        case answered([String: ProbeResult], probedAt: Double)
    }

    /// Probes every worker when due; returns the containers that ended (with or without a
    /// result). With `probeOffRound`, applies the answers that came back since the last round,
    /// if they did, and sends the next probes when they are due.
    public func probeAll(now: Double) async -> [FinishedContainer] {
        if case .answered(let results, let probedAt) = probing {
            probing = .none
            return await apply(results, probedAt: probedAt, now: now)
        }
        guard case .none = probing, now - lastProbe >= settings.probeInterval else { return [] }
        let first = lastProbe == -.infinity
        lastProbe = now
        let targets = workers.values.filter { $0.destroyedAt == nil && !$0.destroying }.map(\.instance)
        let executor = executor
        startedDuringProbe = []
        // The first probes are waited for: until they answer, what runs on the workers is not
        // known, and a plan would take a worker it has not heard from for empty (a survivor
        // draining a dead dispatcher's set would shut it down with a result still on it).
        guard settings.probeOffRound && !first else {
            return await apply(await Self.probe(targets, with: executor, now: now), probedAt: now, now: now)
        }
        probing = .underWay
        inBackground { pool in pool.probing = .answered(await Self.probe(targets, with: executor, now: now), probedAt: now) }
        return []
    }

    /// Every target probed at once (the executor bounds how many are out together).
    private static func probe(_ targets: [Instance], with executor: any WorkerExecutor, now: Double) async -> [String: ProbeResult] {
        await withTaskGroup(of: (String, ProbeResult).self) { group in
            for instance in targets { group.addTask { (instance.id, await executor.probe(instance, now: now)) } }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
    }

    /// Applies the answers of probes sent at `probedAt`: each worker's answer speaks of then
    /// (its last answer, how long it has been silent); what follows from it happens `now`.
    private func apply(_ results: [String: ProbeResult], probedAt: Double, now: Double) async -> [FinishedContainer] {
        defer { startedDuringProbe = nil }  // kept to the end: the loop below may suspend
        // (`ended` below is this answer's list; `self.ended` remembers placements.)
        var ended: [FinishedContainer] = []
        var dark: [(String, String)] = []  // shut down together, in batches
        for (id, result) in results.sorted(by: { $0.key < $1.key }) {
            guard var w = workers[id] else { continue }
            switch result {
            case .unreachable(let cause):
                if let cause { w.unreachableBecause = cause }
                let ready = w.state == .idle || w.state == .running
                let since = ready ? (w.lastAnswer ?? w.appeared) : w.appeared
                let limit = ready ? settings.probeTimeout : settings.bootTimeout
                if w.behavior != .hold && probedAt - since >= limit {
                    if !ready {
                        let last = w.unreachableBecause.map { ": \($0)" } ?? ""
                        noteBootFailure(w, cause: "no answer within boot_timeout (\(Int(limit))s)\(last)", now: now)
                    }
                    ended += w.running.keys.map { FinishedContainer(uuid: $0, exitCode: nil, log: "") }
                    noteEnded(w.running.keys, on: w)
                    w.running = [:]
                    workers[id] = w
                    dark.append((id, ready ? "unreachable for \(Int(probedAt - since))s" : "did not boot within \(Int(limit))s"))
                    continue
                }
            case .broken:
                w.lastAnswer = probedAt
                let drain = w.behavior == .run
                if drain { w.behavior = .drain }
                workers[id] = w  // before suspending: a start meanwhile must not be written over
                if drain { await setBehavior(id, .drain) }
                continue
            case .ready(let answered, let finished):
                let running = answered.union((startedDuringProbe ?? []).filter { w.running[$0] != nil })  // the answer predates those
                if w.lastAnswer == nil { backoff.boot.booted(w.typeName) }
                w.lastAnswer = probedAt
                for uuid in running where w.running[uuid] == nil {  // adopted after a restart
                    w.running[uuid] = probedAt
                    mayBeRunning.insert(uuid)
                }
                if !running.isEmpty { w.everRan = true }
                let reported = Set(finished.map(\.uuid))
                // Every result is passed on, also of containers this pool did not know were
                // there (they ended while the dispatcher was down): the queue decides.
                for f in finished {
                    ended.append(f)
                    reportedBy[f.uuid] = id
                }
                for uuid in w.running.keys where !running.contains(uuid) && !reported.contains(uuid) {
                    ended.append(FinishedContainer(uuid: uuid, exitCode: nil, log: ""))  // vanished without a result
                }
                noteEnded(w.running.keys.filter { !running.contains($0) }, on: w)
                w.running = w.running.filter { running.contains($0.key) }
                w.gpus = w.gpus.filter { running.contains($0.key) }
                let busy = !w.running.isEmpty || w.state == .running || w.state == .unknown || w.state == .booting
                if busy { w.lastBusy = max(w.lastBusy, probedAt) }
                w.state = w.running.isEmpty ? .idle : .running
            }
            workers[id] = w
        }
        await shutdown(dark, now: now)
        return ended
    }
}
