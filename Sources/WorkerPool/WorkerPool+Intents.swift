import DriverHost
import Foundation
import Queue
import Scheduler

/// Create intents (see `CreateIntent`): every create is recorded before the call and carries its
/// token, as the driver's idempotency token and as a tag on each instance. An intent stays open
/// until the cloud's answer is known — its instances, or a refusal — and while open its
/// instances count against every limit (`views` shows them as booting). A create whose answer
/// was lost (transient, throttled, timed out, junk, or the process died) is sent again with the
/// same token, and a listing that shows the token's instances settles it: one set of instances
/// per intent, whatever is lost.
extension WorkerPool {
    struct OpenIntent {
        var intent: CreateIntent
        /// When it was first recorded and last sent, on the pool's clock.
        var since: Double
        var lastSent: Double
        /// A call for it is under way.
        var sending = false
    }

    var intentTag: String { settings.tagPrefix + "intent" }

    /// Reads the intents left open by an earlier process, once; nothing is created before.
    func loadIntents(now: Double) async -> Bool {
        if intentsLoaded { return true }
        guard let log = intentLog else {
            intentsLoaded = true
            return true
        }
        do {
            for intent in try await log.openIntents(instanceSet: settings.instanceSetID) {
                openIntents[intent.token] = OpenIntent(intent: intent, since: now, lastSent: -.infinity)
            }
            intentsLoaded = true
            if !openIntents.isEmpty {
                logger.notice(
                    "open create intents found: reconciling them before creating anything",
                    metadata: ["intents": "\(openIntents.count)"])
            }
        } catch {
            logger.error("cannot read the open create intents; creating nothing until they are read", metadata: ["error": "\(error)"])
        }
        return intentsLoaded
    }

    /// Records a new intent durably; nil when it could not be (then nothing is created).
    func recordIntent(type: InstanceType, count: Int, now: Double) async -> CreateIntent? {
        let intent = CreateIntent(
            instanceSet: settings.instanceSetID, typeName: type.name, count: count,
            secret: settings.instanceSecrets ? InitScript.newSecret() : nil, createdAt: Date())
        do {
            try await intentLog?.recordIntent(intent)
        } catch {
            logger.error("cannot record a create intent; not creating", metadata: ["type": "\(type.name)", "error": "\(error)"])
            return nil
        }
        openIntents[intent.token] = OpenIntent(intent: intent, since: now, lastSent: now, sending: true)
        return intent
    }

    /// The cloud answered for `token`, or its instances were seen: the intent is closed.
    func settle(_ token: String, _ why: String) async {
        guard openIntents.removeValue(forKey: token) != nil else { return }
        do {
            try await intentLog?.settleIntent(token)
        } catch {
            // Still open in the store: the next start reconciles it with the listing, harmlessly.
            logger.warning("cannot mark a create intent settled", metadata: ["intent": "\(token)", "error": "\(error)"])
        }
        logger.debug("create intent settled", metadata: ["intent": "\(token)", "why": "\(why)"])
    }

    /// Whether a failed call may have acted all the same (its answer was lost): a create's intent
    /// then stays open and is sent again with the same token; a destroyed worker takes no work.
    static func outcomeUnknown(_ error: DriverError) -> Bool { outcomeUnknown(error.errorClass) }

    static func outcomeUnknown(_ errorClass: ErrorClass) -> Bool {
        switch errorClass {
        case .transient, .rateLimit, .internal, .abi: true  // a lost or unreadable answer, a timeout
        default: false  // the cloud refused: nothing was made
        }
    }

    /// Instances the listing shows for open intents: booting instances of the intent's type (not
    /// strangers to adopt), counted as created; an intent whose instances are all seen is settled.
    func claimListed(_ instance: Instance, now: Double) -> Worker? {
        guard let token = instance.tags[intentTag], let open = openIntents[token] else { return nil }
        accounting.instancesCreated += 1
        logger.info("instance of a create intent listed", metadata: ["instance": "\(instance.id)", "intent": "\(token)"])
        var worker = Worker(instance: instance, typeName: open.intent.typeName, state: .booting, behavior: .run, appeared: open.since, lastBusy: now)
        worker.createdHere = true
        return worker
    }

    /// Settles intents whose instances the listing showed in full.
    func settleListed(_ listed: [Instance]) async {
        var seen: [String: Int] = [:]
        for instance in listed { if let token = instance.tags[intentTag] { seen[token, default: 0] += 1 } }
        for (token, open) in openIntents where !open.sending && seen[token, default: 0] >= open.intent.count {
            await settle(token, "its instances are listed")
        }
    }

    /// Instances of open intents not seen yet, as booting workers for the scheduling pass: they
    /// count against max_instances, the spend cap and max_concurrent_creates like any other.
    func pendingViews() -> [WorkerView] {
        var seen: [String: Int] = [:]
        for w in workers.values { if let token = w.instance.tags[intentTag] { seen[token, default: 0] += 1 } }
        return openIntents.values.sorted { $0.intent.token < $1.intent.token }.flatMap { open in
            (seen[open.intent.token, default: 0]..<max(seen[open.intent.token, default: 0], open.intent.count)).map { i in
                WorkerView(
                    id: "intent-\(open.intent.token)-\(i)", typeName: open.intent.typeName, state: .booting, idleBehavior: .run,
                    lastBusy: open.since, gpuDevicesInUse: [], fresh: true)
            }
        }
    }

    /// Sends open intents again whose answer was lost (same token: the cloud makes nothing twice),
    /// at most every `intentRetry` seconds, in the background; gives up on one the cloud never
    /// answered for `intentExpiry` (a driver remembers tokens only so long; its instances, if any,
    /// are adopted by the listing like any instance of ours).
    public func retryIntents(now: Double, maxConcurrent: Int) async {
        guard await loadIntents(now: now) else { return }
        var again: [(intent: CreateIntent, type: InstanceType)] = []
        for (token, open) in openIntents.sorted(by: { $0.key < $1.key }) where !open.sending {
            if now - open.since >= settings.intentExpiry {
                logger.error(
                    "create intent abandoned: the cloud never answered", metadata: ["intent": "\(token)", "type": "\(open.intent.typeName)"])
                await settle(token, "expired")
                continue
            }
            guard now - open.lastSent >= settings.intentRetry, backoff.allUntil.map({ $0 <= now }) ?? true,
                let type = types[open.intent.typeName]
            else { continue }
            openIntents[token]?.sending = true
            openIntents[token]?.lastSent = now
            again.append((open.intent, type))
        }
        send(again, maxConcurrent: maxConcurrent, now: now, resend: true)
    }

    /// What a create call's answer means for its intent and the pool. `resend`: the intent was sent
    /// before, so an `invalid` answer is about its token (spent: its instances came and went before
    /// they were listed), not about the type, which the first send found valid.
    func apply(
        _ result: Result<[Instance], DriverError>, of intent: CreateIntent, type: InstanceType, now: Double,
        resend: Bool = false
    ) async {
        openIntents[intent.token]?.sending = false
        switch result {
        case .success(let made):
            backoff.recordSuccess()
            if !made.isEmpty && backoff.boot.trialOnly(type.name) { backoff.boot.trialCreated(type.name) }
            for instance in made where workers[instance.id] == nil {
                accounting.instancesCreated += 1
                workers[instance.id] = Worker(
                    instance: instance, typeName: type.name, state: .booting, behavior: .run,
                    appeared: openIntents[intent.token]?.since ?? now, lastBusy: now)
                workers[instance.id]?.createdHere = true
            }
            logger.info("instances created", metadata: ["type": "\(type.name)", "count": "\(made.count)", "intent": "\(intent.token)"])
            await settle(intent.token, "the cloud answered")
        case .failure(let error) where resend && error.errorClass == .invalid:
            logger.warning(
                "a create sent again was refused: its token is spent; nothing more is made for it",
                metadata: ["type": "\(type.name)", "intent": "\(intent.token)", "error": "\(error)"])
            await settle(intent.token, "token spent")
        case .failure(let error):
            recordFailure(error, type: type, now: now)
            if Self.outcomeUnknown(error) {
                logger.warning(
                    "create failed, its outcome unknown; it is sent again with the same token",
                    metadata: ["type": "\(type.name)", "intent": "\(intent.token)", "error": "\(error)"])
            } else {
                logger.warning("create failed", metadata: ["type": "\(type.name)", "error": "\(error)"])
                await settle(intent.token, "refused: \(error.errorClass.name)")
            }
        }
    }
}
