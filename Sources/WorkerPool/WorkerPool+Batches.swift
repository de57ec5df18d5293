import DriverHost
import Queue
import Scheduler

/// Creates and destroys in as few cloud calls as the driver allows: creates split by
/// `max_create_count` and run up to `maxConcurrent` at once, destroys sent in batches of
/// `max_destroy_batch`. Every call waits for a token of the shared bucket first.
extension WorkerPool {
    /// Creates `count` instances per type name, each call under a durable intent (see
    /// `CreateIntent`). Results are applied in call order, not arrival order, so a simulation
    /// replays the same.
    public func create(_ creates: [String: Int], maxConcurrent: Int, now: Double) async {
        guard await loadIntents(now: now) else { return }
        var batches: [(type: InstanceType, count: Int)] = []
        for (name, count) in creates.sorted(by: { $0.key < $1.key }) {
            guard let type = types[name] else { continue }
            var left = count
            while left > 0 {
                let n = min(left, settings.maxCreateCount)
                batches.append((type, n))
                left -= n
            }
        }
        guard !batches.isEmpty else { return }
        let set = instanceSet
        var sent: [(intent: CreateIntent, type: InstanceType)] = []
        var outcomes: [Int: Result<[Instance], DriverError>] = [:]
        await withTaskGroup(of: (Int, Result<[Instance], DriverError>).self) { group in
            for batch in batches {
                if sent.count >= max(1, maxConcurrent), let (j, outcome) = await group.next() { outcomes[j] = outcome }
                guard let intent = await recordIntent(type: batch.type, count: batch.count, now: now) else { continue }
                await paced(.create)
                calls.instancesRequested += batch.count
                let request = createRequest(batch.type, intent)
                let i = sent.count
                sent.append((intent, batch.type))
                group.addTask {
                    do throws(DriverError) { return (i, .success(try await set.create(request))) } catch { return (i, .failure(error)) }
                }
            }
            for await (j, outcome) in group { outcomes[j] = outcome }
        }
        for (i, call) in sent.enumerated() {
            guard let outcome = outcomes[i] else { continue }
            await apply(outcome, of: call.intent, type: call.type, now: now)
        }
    }

    /// The driver request for an intent: the same every time it is sent (token, tags, secret).
    func createRequest(_ type: InstanceType, _ intent: CreateIntent) -> CreateRequest {
        let spec = InstanceTypeSpec(name: type.name, providerType: type.providerType, vcpus: type.vcpus, ram: type.ram,
                                    scratch: type.scratch, addedScratch: type.addedScratch,
                                    gpu: type.gpuCount > 0 ? GPUSpec(count: type.gpuCount, stack: type.gpuStack, vram: type.gpuVRAM) : nil,
                                    preemptible: type.preemptible, price: type.price)
        var tags = [settings.setTag: settings.instanceSetID, settings.typeTag: type.name, settings.behaviorTag: "run",
                    intentTag: intent.token]
        var initScript = settings.initScript
        if let secret = intent.secret {
            // One secret per intent: every instance of it shares it (each is tagged with it).
            tags[settings.secretTag] = secret
            initScript = InitScript.make(secret: secret, extra: settings.initCommand)
        }
        return CreateRequest(instanceType: spec, image: settings.image, tags: tags, initScript: initScript,
                             sshPublicKey: settings.sshPublicKey, count: intent.count, idempotencyToken: intent.token)
    }

    /// Destroys workers, `max_destroy_batch` ids a call; each is billed once and marked shut
    /// down when the cloud took it (a refused one is tried again by `retryShutdowns`).
    public func shutdown(_ targets: [(id: String, reason: String)], now: Double) async {
        let known = targets.filter { workers[$0.id] != nil }
        var start = 0
        while start < known.count {
            let batch = Array(known[start..<min(known.count, start + settings.maxDestroyBatch)])
            start += batch.count
            await paced(.destroy)
            calls.idsDestroyed += batch.count
            do {
                let result = try await instanceSet.destroy(ids: batch.map(\.id))
                // A refusal whose outcome is unknown (the cloud may have acted) counts as a
                // destroy too: nothing new may start there; `retryShutdowns` sends it again
                // while the instance is still listed.
                let refused = Set(result.failed.filter { !Self.outcomeUnknown($0.class) }.map(\.id))
                for (id, reason) in batch where !refused.contains(id) { markDestroyed(id, reason: reason, now: now) }
                if let first = result.failed.first {
                    logger.warning("destroy refused; will retry", metadata: ["instances": "\(result.failed.map(\.id).sorted())", "error": "\(first.message)"])
                }
            } catch {
                recordFailure(error, type: nil, now: now)
                logger.warning("destroy failed; will retry", metadata: ["instances": "\(batch.map(\.id))", "error": "\(error)"])
                if Self.outcomeUnknown(error.errorClass) {
                    for (id, reason) in batch { markDestroyed(id, reason: reason + " (the cloud's answer was lost)", now: now) }
                }
            }
        }
    }

    private func markDestroyed(_ id: String, reason: String, now: Double) {
        guard let w = workers[id] else { return }
        if !w.billed {
            workers[id]?.billed = true
            let price = types[w.typeName]?.price ?? 0
            accounting.billedSeconds += now - w.appeared
            accounting.billedCost += price * (now - w.appeared) / 3600
            if !w.everRan {
                accounting.destroyedUnused += 1
                accounting.unusedSeconds += now - w.appeared
            }
        }
        workers[id]?.state = .shutdown
        workers[id]?.destroyedAt = now
        logger.info("instance shut down", metadata: ["instance": "\(id)", "reason": "\(reason)", "type": "\(w.typeName)"])
    }
}
