/// One scheduling pass, as a pure function of its inputs: the same inputs give the same plan,
/// under the simulator's virtual clock and the wall clock alike.
///
///     let plan = SchedulingPass.plan(containers: demands, workers: workers, eligibility: eligibility,
///                                    limits: limits, backoff: backoff, now: clock.now)
///
/// Order of service: containers already locked before queued ones, then priority (highest
/// first), then submit time (earliest first). Each waiting container goes, in this order of
/// preference, to: a ready worker with room (fresh ones that never ran anything first, then busy
/// ones, then idle ones, so idle ones can drain),
/// a booting worker with room, or a new instance of the cheapest eligible type that no limit or
/// back-off blocks. New instances are packed too: the next container may take the rest of one
/// planned a moment ago. Only locked containers get instances: a queued one is locked first.
public enum SchedulingPass {
    /// `creating`: create calls the pool has in flight (not yet workers), counted against
    /// `max_concurrent_creates`. `callSize`: the most instances one create call may ask for
    /// (the driver's `max_create_count`): the pass plans up to that many per call.
    public static func plan(
        containers: [ContainerDemand], workers: [WorkerView], eligibility: Eligibility,
        limits: Limits, backoff: Backoff, creating: Int = 0, callSize: Int = 1, now: Double
    ) -> Plan {
        planAndRoom(
            containers: containers, workers: workers, eligibility: eligibility, limits: limits, backoff: backoff,
            creating: creating, callSize: callSize, now: now
        ).plan
    }

    /// The same pass, and the room on ready workers it left free: where containers that arrive
    /// before the next pass may start at once (see `FreeRoom`).
    public static func planAndRoom(
        containers: [ContainerDemand], workers: [WorkerView], eligibility: Eligibility,
        limits: Limits, backoff: Backoff, creating: Int = 0, callSize: Int = 1, now: Double
    ) -> (plan: Plan, room: FreeRoom) {
        var pass = PassState(eligibility: eligibility, limits: limits, backoff: backoff, now: now)
        pass.createCalls = creating
        pass.callSize = max(1, callSize)
        pass.addWorkers(workers)
        pass.accountRunning(containers)
        pass.placeWaiting(containers)
        pass.shutDownUnneeded()
        let plan = pass.plan
        pass.plan = Plan()
        return (plan, FreeRoom(pass))
    }
}

/// The working state of one pass.
struct PassState: Sendable {
    let eligibility: Eligibility
    let limits: Limits
    let backoff: Backoff
    let now: Double
    var plan = Plan()

    /// A worker (existing or planned in this pass) and what is still free on it.
    struct Slot {
        var id: String
        var type: InstanceType
        var state: WorkerView.State
        var behavior: WorkerView.IdleBehavior
        var lastBusy: Double
        var free: Resources
        var gpuFree: [Int]
        /// Containers on it, starting on it, or waiting for it to boot.
        var containers = 0
        var planned = false

        var isReady: Bool { (state == .idle || state == .running) && behavior == .run }
        var isBooting: Bool { (state == .booting || state == .unknown) && behavior == .run }
    }

    var slots: [Slot] = []
    var slotIndex: [String: Int] = [:]
    /// Per type name: the workers that may take containers (so a full type is skipped in O(1)).
    var readyByType: [String: Bucket] = [:]
    var bootingByType: [String: Bucket] = [:]
    var typesByName: [String: InstanceType] = [:]
    /// Per shape (see `ContainerDemand.shape`): its position in `shapes`.
    var shapeIndex: [ContainerDemand.Shape: Int] = [:]
    var shapes: [ShapeMemo] = []
    /// Instances this pass planned so far: a refusal to create holds until the next one.
    var createsPlanned = 0
    /// The last waiting status written, reused while the next is the same text (deep in a
    /// queue, thousands of containers in a row share one).
    var lastStatus: (reason: String, ahead: String, text: String)?

    /// What containers of one shape share within a pass: the types that fit, and the last
    /// refusal to create an instance for one (a refusal changes no state, so it stands for
    /// every later container of the shape until an instance is planned).
    struct ShapeMemo {
        var answer: Eligibility.Answer
        var refusal: (reason: String, quota: Bool)?
        var refusalCreates = 0
    }

    var instanceCount = 0
    var hourlySpend = 0.0
    /// Create calls in flight plus those this pass planned (one per `callSize` instances of a type).
    var createCalls = 0
    var callSize = 1

    /// Workers of one type that may take containers, busiest first, with upper bounds of the
    /// room any of them has (lowered when a search finds none big enough).
    struct Bucket {
        var slots: [Int] = []
        var maxFreeVCPUs = Int.max
        var maxFreeRAM = Int64.max
    }

    init(eligibility: Eligibility, limits: Limits, backoff: Backoff, now: Double) {
        self.eligibility = eligibility
        self.limits = limits
        self.backoff = backoff
        self.now = now
        for t in eligibility.types { typesByName[t.name] = t }
    }

    // MARK: Workers and what runs on them

    mutating func addWorkers(_ workers: [WorkerView]) {
        // Fresh workers first (made for work, never used), then busy ones, then idle ones, so
        // idle ones can drain and no new instance is shut down unused.
        func rank(_ w: WorkerView) -> Int { w.fresh && w.state == .idle ? 0 : w.state == .running ? 1 : 2 }
        let ordered = workers.sorted { (rank($0), $0.id) < (rank($1), $1.id) }
        // An instance being shut down still exists until a listing no longer shows it (and one
        // whose destroy's answer was lost may not be going at all): it counts against
        // max_instances and takes nothing. (Not against the spending cap: counted there, it
        // would have a second instance shut down for the first.)
        instanceCount += ordered.filter { $0.state == .shutdown }.count
        for w in ordered where w.state != .shutdown {
            instanceCount += 1
            guard let type = typesByName[w.typeName] else {
                // Its type is no longer configured: it takes nothing new and goes once idle.
                if w.idleBehavior != .drain { plan.drains.append(w.id) }
                let unknownType = InstanceType(name: w.typeName, vcpus: 0, ram: 0, price: 0)
                addSlot(
                    Slot(
                        id: w.id, type: unknownType, state: w.state, behavior: .drain, lastBusy: w.lastBusy,
                        free: .zero, gpuFree: []))
                continue
            }
            hourlySpend += type.price
            let gpuFree = (0..<type.gpuCount).filter { !w.gpuDevicesInUse.contains($0) }
            addSlot(
                Slot(
                    id: w.id, type: type, state: w.state, behavior: w.idleBehavior, lastBusy: w.lastBusy,
                    free: type.usable, gpuFree: gpuFree))
        }
    }

    mutating func addSlot(_ slot: Slot) {
        let index = slots.count
        slots.append(slot)
        slotIndex[slot.id] = index
        if slot.isReady { readyByType[slot.type.name, default: Bucket()].slots.append(index) }
        if slot.isBooting { bootingByType[slot.type.name, default: Bucket()].slots.append(index) }
    }

    /// Running containers use their worker's room; those that must stop are stopped.
    mutating func accountRunning(_ containers: [ContainerDemand]) {
        for c in containers {
            guard case .running(let worker) = c.state else { continue }
            if c.shouldStop { plan.stops.append(.init(id: c.uuid, reason: "cancelled or priority 0")) }
            guard let i = slotIndex[worker] else { continue }  // reconciling unknown workers is the pool's job
            slots[i].free = slots[i].free - c.needs
            slots[i].containers += 1
        }
    }

    // MARK: Waiting containers

    mutating func placeWaiting(_ containers: [ContainerDemand]) {
        let waiting = QueueOrder.sortedWaiting(
            containers.filter {
                switch $0.state {
                case .queued, .locked: return $0.priority > 0
                case .running: return false
                }
            })
        var blockedSince: Int?  // position of the first container that could not be served
        plan.statuses.reserveCapacity(waiting.count)
        for (position, c) in waiting.enumerated() {
            let shape = shapeOf(c)
            let answer = shapes[shape].answer
            guard case .eligible(let types) = answer else {
                if case .impossible(let reason) = answer { plan.cancels.append(.init(id: c.uuid, reason: reason)) }
                continue
            }
            if refusedEverywhere(types) {
                let refusals = types.map { "\($0.name): \(backoff.invalid[$0.name]!)" }.joined(separator: "; ")
                plan.cancels.append(.init(id: c.uuid, reason: "the cloud refuses to create every instance type that fits it: \(refusals)"))
                continue
            }
            let locked = c.state == .locked
            if let start = startOnReady(c, types: types) {
                plan.starts.append(start)
                if !locked { plan.locks.append(c.uuid) }
                continue
            }
            if let i = takeRoom(ready: false, types: types, for: c) {
                if !slots[i].gpuFree.isEmpty { slots[i].gpuFree.removeFirst(min(c.needs.gpus, slots[i].gpuFree.count)) }
                if !locked { plan.locks.append(c.uuid) }
                plan.statuses[c.uuid] = "waiting for \(slots[i].type.name) instance \(slots[i].planned ? "(new)" : slots[i].id) to boot"
                continue
            }
            let outcome: CreateOutcome
            if let refusal = shapes[shape].refusal, shapes[shape].refusalCreates == createsPlanned {
                outcome = .refused(refusal.reason, quota: refusal.quota)
            } else {
                outcome = createFor(c, types: types)
                if case .refused(let reason, let quota) = outcome { (shapes[shape].refusal, shapes[shape].refusalCreates) = ((reason, quota), createsPlanned) }
            }
            switch outcome {
            case .created(let type):
                if !locked { plan.locks.append(c.uuid) }
                plan.statuses[c.uuid] = "waiting for a new \(type.name) instance to boot"
            case .refused(let reason, let quota):
                if blockedSince == nil { blockedSince = position }
                let ahead = position - blockedSince!
                plan.statuses[c.uuid] = waitingStatus(reason, ahead: ahead > 0 ? Self.rounded(ahead) : "")
                if quota && locked {
                    plan.unlocks.append(.init(id: c.uuid, reason: "the cloud account is at its instance quota"))
                }
            }
        }
    }

    /// `c` on the first ready worker with room for it (see `takeRoom`), if one has it.
    mutating func startOnReady(_ c: ContainerDemand, types: [InstanceType]) -> Plan.Start? {
        guard let i = takeRoom(ready: true, types: types, for: c) else { return nil }
        let devices = Array(slots[i].gpuFree.prefix(c.needs.gpus))
        slots[i].gpuFree.removeFirst(devices.count)
        return Plan.Start(uuid: c.uuid, worker: slots[i].id, gpuDevices: devices, needsLock: c.state != .locked)
    }

    /// Whether every type that fits has been refused by the cloud as invalid (`c` is cancelled).
    func refusedEverywhere(_ types: [InstanceType]) -> Bool {
        types.allSatisfy { backoff.invalid[$0.name] != nil }
    }

    /// `reason`, and how many wait ahead when any do; the same text as the last one is shared.
    mutating func waitingStatus(_ reason: String, ahead: String) -> String {
        if let last = lastStatus, last.ahead == ahead, last.reason == reason { return last.text }
        let text = ahead.isEmpty ? reason : "\(reason); \(ahead) waiting ahead of it"
        lastStatus = (reason, ahead, text)
        return text
    }

    /// A count of containers ahead: exact below 100, above it the step of 1, 2 or 5 times a power
    /// of ten it has passed ("500+", "20000+"). A status is a queue write whenever it changes, and
    /// a cancel near the head moves everything behind it by one: with two-digit rounding that
    /// rewrote ~19,000 of 100,000 statuses a round of 100 cancels, with these steps only those
    /// crossing one of ~10 steps change.
    static func rounded(_ n: Int) -> String {
        guard n >= 100 else { return "\(n)" }
        var power = 100
        while power <= n / 10 { power *= 10 }
        let step = n >= 5 * power ? 5 * power : n >= 2 * power ? 2 * power : power
        return "\(step)+"
    }

    /// The position of `c`'s shape in `shapes`, judged the first time it is seen.
    mutating func shapeOf(_ c: ContainerDemand) -> Int {
        let shape = c.shape
        if let known = shapeIndex[shape] { return known }
        shapes.append(ShapeMemo(answer: eligibility.answer(for: c)))
        shapeIndex[shape] = shapes.count - 1
        return shapes.count - 1
    }

    /// First fit among `types` (cheapest first) on ready (or booting) workers; reserves the room it takes.
    mutating func takeRoom(ready: Bool, types: [InstanceType], for c: ContainerDemand) -> Int? {
        for t in types {
            guard var bucket = (ready ? readyByType : bootingByType)[t.name],
                bucket.maxFreeVCPUs >= c.needs.vcpus, bucket.maxFreeRAM >= c.needs.ram
            else { continue }
            var mostVCPUs = 0
            var mostRAM: Int64 = 0
            var found: Int?
            var k = 0
            while k < bucket.slots.count {
                let i = bucket.slots[k]
                let s = slots[i]
                // Room only shrinks during a pass: a full worker leaves the bucket for good.
                if s.free.vcpus <= 0 || s.free.ram <= 0 || s.containers >= limits.maxContainersPerInstance {
                    bucket.slots.remove(at: k)  // keeps busy-before-idle order
                    continue
                }
                if s.free.covers(c.needs) && s.gpuFree.count >= c.needs.gpus {
                    found = i
                    break
                }
                mostVCPUs = max(mostVCPUs, s.free.vcpus)
                mostRAM = max(mostRAM, s.free.ram)
                k += 1
            }
            if found == nil {
                // Nothing here fits this much: later containers needing as much skip the bucket.
                bucket.maxFreeVCPUs = mostVCPUs
                bucket.maxFreeRAM = mostRAM
            }
            if ready { readyByType[t.name] = bucket } else { bootingByType[t.name] = bucket }
            guard let i = found else { continue }
            slots[i].free = slots[i].free - c.needs
            slots[i].containers += 1
            return i
        }
        return nil
    }

    enum CreateOutcome {
        case created(InstanceType)
        case refused(String, quota: Bool)
    }

    /// A new instance for `c`, of the cheapest eligible type no limit or back-off blocks.
    mutating func createFor(_ c: ContainerDemand, types: [InstanceType]) -> CreateOutcome {
        if backoff.atQuota(instanceCount: instanceCount) {
            return .refused("at the cloud account's instance quota (\(instanceCount) instances)", quota: true)
        }
        if instanceCount >= limits.maxInstances {
            return .refused("at max_instances (\(limits.maxInstances))", quota: false)
        }
        var reasons: [String] = []
        for t in types {
            if let cap = limits.maxHourlySpend, hourlySpend + t.price > cap + 1e-9 {
                reasons.append(
                    "a \(t.name) would take spending past max_hourly_spend (\(format(hourlySpend)) + \(format(t.price)) > \(format(cap)) per hour)")
                break  // later types cost more
            }
            if let why = backoff.blocked(t, now: now) {
                reasons.append(why)
                continue
            }
            if backoff.boot.trialOnly(t.name) && plan.creates[t.name, default: 0] >= 1 {
                reasons.append("\(t.name) did not boot before; one trial instance is being created")
                continue
            }
            let needsACall = plan.creates[t.name, default: 0] % callSize == 0
            if needsACall && createCalls >= limits.maxConcurrentCreates {
                // Wait for a call rather than pay for a dearer type that has room in one.
                reasons.append("waiting: \(createCalls) create calls are under way (max_concurrent_creates)")
                break
            }
            plan.creates[t.name, default: 0] += 1
            createsPlanned += 1
            instanceCount += 1
            hourlySpend += t.price
            if needsACall { createCalls += 1 }
            var slot = Slot(
                id: "new-\(t.name)-\(plan.creates[t.name]!)", type: t, state: .booting, behavior: .run,
                lastBusy: now, free: t.usable - c.needs, gpuFree: Array(c.needs.gpus..<t.gpuCount))
            slot.containers = 1
            slot.planned = true
            addSlot(slot)
            return .created(t)
        }
        return .refused(reasons.joined(separator: "; "), quota: false)
    }

    // MARK: Instances nothing needs

    mutating func shutDownUnneeded() {
        let quotaPressure = backoff.atQuota(instanceCount: instanceCount)
        var overSpend = limits.maxHourlySpend.map { hourlySpend - $0 } ?? 0
        // Most expensive first, so a lowered spending cap is met with the fewest shutdowns.
        let order = slots.indices.filter { !slots[$0].planned }.sorted {
            (slots[$0].type.price, slots[$0].id) > (slots[$1].type.price, slots[$1].id)
        }
        for i in order {
            let s = slots[i]
            guard s.containers == 0 && s.behavior != .hold else { continue }
            var reason: String?
            switch (s.state, s.behavior) {
            // Once what runs there ended, and once it was heard from: an unknown worker may
            // hold the result of a start nobody recorded (a dead dispatcher's, a lost answer's).
            // One that never answers goes at boot_timeout.
            case (_, .drain) where s.state != .running && s.state != .unknown: reason = "draining"
            case (.idle, _) where now - s.lastBusy >= limits.idleTimeout: reason = "idle for \(Int(now - s.lastBusy))s"
            case (.idle, _) where quotaPressure: reason = "idle while the account is at its quota"
            case (.idle, _), (.booting, _), (.unknown, _):
                if overSpend > 1e-9 { reason = "over max_hourly_spend" }
            default: break
            }
            if let reason {
                plan.shutdowns.append(.init(id: s.id, reason: reason))
                overSpend -= s.type.price
            }
        }
    }

    func format(_ price: Double) -> String {
        let cents = Int((price * 100).rounded())
        return "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)"
    }
}
