import Scheduler

/// What the metrics remember between rounds: each instance's boot progress (to time its boot and
/// count how it ended) and the label sets each gauge was given (a set that vanished goes to 0,
/// not stale).
struct RoundObserver {
    enum Event: Equatable {
        case outcome(String)
        case timeToSSH(Double)
        case timeToReady(Double)
    }

    struct Boot {
        /// Created by this process: its boot is timed. Adopted ones are not.
        var created: Bool
        var answered = false
        var ready = false
        var ended = false
    }

    var boots: [String: Boot] = [:]
    var published: [String: Set<Labels>] = [:]

    mutating func observe(_ snapshot: PoolSnapshot, now: Double) -> [Event] {
        var events: [Event] = []
        var present = Set<String>()
        for w in snapshot.workers {
            present.insert(w.id)
            var b = boots[w.id] ?? Boot(created: w.createdHere)
            if b.created, !b.answered, let answer = w.lastAnswer {
                b.answered = true
                events.append(.timeToSSH(max(0, answer - w.appeared)))
            }
            if !b.ready, w.state == .idle || w.state == .running {
                b.ready = true
                b.ended = true
                if b.created {
                    events.append(.outcome("ready"))
                    events.append(.timeToReady(max(0, (w.lastAnswer ?? now) - w.appeared)))
                }
            }
            if !b.ended, let destroyed = w.destroyedAt {
                b.ended = true
                if b.created { events.append(.outcome(destroyed - w.appeared >= snapshot.bootTimeout ? "boot_timeout" : "aborted")) }
            }
            boots[w.id] = b
        }
        for (id, b) in boots where !present.contains(id) {
            if b.created && !b.ended { events.append(.outcome("disappeared")) }
            boots[id] = nil
        }
        return events
    }

    /// The values to set for gauge `name`: this round's, and 0 for label sets seen before but not now.
    mutating func labeled(_ name: String, _ values: [Labels: Double]) -> [(String, Labels, Double)] {
        let before = published[name] ?? []
        published[name] = before.union(values.keys)
        return values.map { (name, $0.key, $0.value) } + before.subtracting(values.keys).map { (name, $0, 0) }
    }
}
