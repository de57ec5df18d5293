/// Calls the round does not wait for: cloud writes, and the listing and the probes when they are
/// sent off the round (`listOffRound`, `probeOffRound`). Creates and destroys run as tasks of
/// their own, so a cloud that takes minutes to answer delays only that answer: the rounds go on
/// listing, probing, starting and shutting down meanwhile. Whatever such a call leaves undecided is
/// already on record before it is sent (an open create intent, a worker marked as destroying),
/// so the scheduling pass never counts on it and nothing lands on an instance being destroyed.
///
/// A round queues its calls; `sendCalls` starts them all at once at the end of the round, and
/// `callsSettled` (the simulator's way) runs them one after another in the order they were
/// queued — so a seed replays the same — and then waits for any still under way.
extension WorkerPool {
    typealias CloudJob = @Sendable (isolated WorkerPool) async -> Void

    /// Queues `work` to run on the pool outside the round.
    func inBackground(_ work: @escaping CloudJob) {
        queuedCalls.append(work)
    }

    /// Starts every queued call as a task of its own, kept until it ends.
    public func sendCalls() {
        let jobs = queuedCalls
        queuedCalls = []
        for job in jobs {
            let id = nextBackgroundID
            nextBackgroundID += 1
            // Inserted before the task can run: it runs on this actor, which is busy until we return.
            backgroundCalls[id] = Task {
                await job(self)
                self.backgroundCalls[id] = nil
            }
        }
    }

    /// Runs the queued calls in order, then returns once every call sent so far has been answered
    /// (or given up on) and its answer applied.
    public func callsSettled() async {
        while !queuedCalls.isEmpty {
            let job = queuedCalls.removeFirst()
            await job(self)
        }
        while let (_, task) = backgroundCalls.first { await task.value }
    }

    /// When the answer to a call sent in the round at `sentAt` came, on the round's time scale: the
    /// pool's clock, which a caller driving rounds with its own times (a benchmark) may leave behind.
    func answerTime(sentAt: Double) -> Double { max(sentAt, clock.now) }

    /// Calls still waiting for the cloud.
    public var callsInFlight: Int { backgroundCalls.count }
}
