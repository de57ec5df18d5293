import DriverHost
import Queue
import Scheduler

/// Creates and destroys in as few cloud calls as the driver allows: creates split by
/// `max_create_count` and run up to `maxConcurrent` at once, destroys sent in batches of
/// `max_destroy_batch`. Every call waits for a token of the shared bucket first.
extension WorkerPool {
    /// Creates `count` instances per type name, each call under a durable intent (see
    /// `CreateIntent`). The intents are recorded before this returns; the calls are sent in the
    /// background (see `inBackground`).
    public func create(_ creates: [String: Int], maxConcurrent: Int, now: Double) async {
        guard await loadIntents(now: now) else { return }
        var intents: [(intent: CreateIntent, type: InstanceType)] = []
        for (name, count) in creates.sorted(by: { $0.key < $1.key }) {
            guard let type = types[name] else { continue }
            var left = count
            while left > 0 {
                let n = min(left, settings.maxCreateCount)
                left -= n
                guard let intent = await recordIntent(type: type, count: n, now: now) else { return }  // the store refused: nothing more
                intents.append((intent, type))
            }
        }
        send(intents, maxConcurrent: maxConcurrent, now: now)
    }

    /// Sends create calls for `intents` (marked as sending), up to `maxConcurrent` at once, in a
    /// task of its own. Answers are applied in call order, not arrival order, so a simulation
    /// replays the same.
    func send(_ intents: [(intent: CreateIntent, type: InstanceType)], maxConcurrent: Int, now: Double, resend: Bool = false) {
        guard !intents.isEmpty else { return }
        let requests = intents.map { createRequest($0.type, $0.intent, firstSend: !resend) }
        let set = instanceSet
        inBackground { pool in
            var outcomes: [Int: Result<[Instance], DriverError>] = [:]
            await withTaskGroup(of: (Int, Result<[Instance], DriverError>).self) { group in
                for (i, request) in requests.enumerated() {
                    if i >= max(1, maxConcurrent), let (j, outcome) = await group.next() { outcomes[j] = outcome }
                    await pool.paced(.create)
                    pool.calls.instancesRequested += request.count
                    group.addTask { (i, await Self.answer(to: request, from: set)) }
                }
                for await (j, outcome) in group { outcomes[j] = outcome }
            }
            // A missing answer is a lost one: the intent stays open and is sent again with its token.
            let unrecorded = DriverError(.internal, "no answer was recorded for this call", driver: set.driverID, operation: "create")
            for (i, call) in intents.enumerated() {
                let outcome = outcomes[i] ?? .failure(unrecorded)
                await pool.apply(outcome, of: call.intent, type: call.type, now: pool.answerTime(sentAt: now), resend: resend)
            }
        }
    }

    /// A create call's answer as a value. Kept out of the task-group closure on purpose: Swift 6.3.1
    /// at -O miscompiles `do throws(E) { return (i, .success(try await …)) } catch { … }` inside
    /// `addTask`, losing the index, so every answer in a release build went unapplied.
    private static func answer(to request: CreateRequest, from set: any InstanceSet) async -> Result<[Instance], DriverError> {
        do throws(DriverError) { return .success(try await set.create(request)) } catch { return .failure(error) }
    }

    /// The driver request for an intent: the same every time it is sent (token, tags, secret),
    /// but for `first_send` (the first send only: the driver need not look for earlier instances).
    func createRequest(_ type: InstanceType, _ intent: CreateIntent, firstSend: Bool) -> CreateRequest {
        let spec = InstanceTypeSpec(
            name: type.name, providerType: type.providerType, vcpus: type.vcpus, ram: type.ram,
            scratch: type.scratch, addedScratch: type.addedScratch,
            gpu: type.gpuCount > 0 ? GPUSpec(count: type.gpuCount, stack: type.gpuStack, vram: type.gpuVRAM) : nil,
            preemptible: type.preemptible, price: type.price)
        var tags = [
            settings.setTag: settings.instanceSetID, settings.typeTag: type.name, settings.behaviorTag: "run",
            intentTag: intent.token,
        ]
        var initScript = settings.initScript
        if let secret = intent.secret {
            // One secret per intent: every instance of it shares it (each is tagged with it).
            tags[settings.secretTag] = secret
            initScript = InitScript.make(secret: secret, extra: settings.initCommand)
        }
        return CreateRequest(
            instanceType: spec, image: settings.image, tags: tags, initScript: initScript,
            sshPublicKey: settings.sshPublicKey, count: intent.count, idempotencyToken: intent.token,
            firstSend: firstSend ? true : nil)
    }

    /// Destroys workers, `max_destroy_batch` ids a call, in the background (see `inBackground`).
    /// Each is marked as destroying at once, so nothing new lands there; it is billed and marked
    /// shut down when the cloud took it. One the cloud refused takes work again until the next
    /// plan shuts it down again.
    public func shutdown(_ targets: [(id: String, reason: String)], now: Double) async {
        let known = targets.filter { workers[$0.id].map { !$0.destroying && $0.destroyedAt == nil } ?? false }
        guard !known.isEmpty else { return }
        for (id, _) in known { workers[id]?.destroying = true }
        let batches = stride(from: 0, to: known.count, by: settings.maxDestroyBatch).map {
            Array(known[$0..<min(known.count, $0 + settings.maxDestroyBatch)])
        }
        inBackground { pool in
            for batch in batches { await pool.destroy(batch, sentAt: now) }
        }
    }

    /// One destroy call and what its answer means.
    private func destroy(_ batch: [(id: String, reason: String)], sentAt: Double) async {
        await paced(.destroy)
        calls.idsDestroyed += batch.count
        let result: DestroyResult
        do {
            result = try await instanceSet.destroy(ids: batch.map(\.id))
        } catch {
            let now = answerTime(sentAt: sentAt)
            recordFailure(error, type: nil, now: now)
            logger.warning("destroy failed; will retry", metadata: ["instances": "\(batch.map(\.id))", "error": "\(error)"])
            // Its outcome unknown, the cloud may have acted: it counts as destroyed (nothing new
            // may start there), and `retryShutdowns` sends it again while it is still listed.
            let unknown = Self.outcomeUnknown(error.errorClass)
            for (id, reason) in batch {
                if unknown { markDestroyed(id, reason: reason + " (the cloud's answer was lost)", now: now) } else { workers[id]?.destroying = false }
            }
            return
        }
        let now = answerTime(sentAt: sentAt)
        let refused = Set(result.failed.filter { !Self.outcomeUnknown($0.class) }.map(\.id))
        for (id, reason) in batch {
            if refused.contains(id) { workers[id]?.destroying = false } else { markDestroyed(id, reason: reason, now: now) }
        }
        if let first = result.failed.first {
            logger.warning(
                "destroy refused; will retry", metadata: ["instances": "\(result.failed.map(\.id).sorted())", "error": "\(first.message)"])
        }
    }

    private func markDestroyed(_ id: String, reason: String, now: Double) {
        guard let w = workers[id] else { return }
        bill(id, until: now)
        workers[id]?.state = .shutdown
        workers[id]?.destroying = false
        workers[id]?.destroyedAt = now
        logger.info("instance shut down", metadata: ["instance": "\(id)", "reason": "\(reason)", "type": "\(w.typeName)"])
    }
}

extension WorkerPool {
    /// Adds a worker's time to the bill, once: at its first accepted destroy, or when the cloud
    /// stops listing it (taken back, or destroyed while the answer was still on its way).
    func bill(_ id: String, until now: Double) {
        guard let w = workers[id], !w.billed else { return }
        workers[id]?.billed = true
        let price = types[w.typeName]?.price ?? 0
        accounting.billedSeconds += now - w.appeared
        accounting.billedCost += price * (now - w.appeared) / 3600
        if !w.everRan {
            accounting.destroyedUnused += 1
            accounting.unusedSeconds += now - w.appeared
        }
    }
}
