@testable import Scheduler
import Testing

let GiB: Int64 = 1 << 30
let small = InstanceType(name: "small", vcpus: 2, ram: 4 * GiB, scratch: 50 * GiB, price: 0.10)
let medium = InstanceType(name: "medium", vcpus: 4, ram: 16 * GiB, scratch: 100 * GiB, price: 0.20)
let large = InstanceType(name: "large", vcpus: 16, ram: 64 * GiB, scratch: 200 * GiB, price: 0.80)
let smallSpot = InstanceType(name: "small-spot", providerType: "small", vcpus: 2, ram: 4 * GiB, price: 0.03, preemptible: true)
let gpu = InstanceType(name: "gpu", vcpus: 8, ram: 32 * GiB, gpuCount: 2, gpuStack: "cuda", gpuVRAM: 16 * GiB, price: 1.20)

func demand(_ uuid: String, _ state: ContainerDemand.State = .queued, priority: Int = 1, at: Double = 0, vcpus: Int = 1,
            ram: Int64 = GiB, gpus: Int = 0, preemptible: Bool = false, allowed: [String] = [], stop: Bool = false) -> ContainerDemand {
    ContainerDemand(uuid: uuid, state: state, priority: priority, createdAt: at, needs: Resources(vcpus: vcpus, ram: ram, gpus: gpus),
                    gpuStack: gpus > 0 ? "cuda" : "", preemptible: preemptible, allowedTypes: allowed, shouldStop: stop)
}

func worker(_ id: String, _ type: InstanceType, _ state: WorkerView.State = .idle, behavior: WorkerView.IdleBehavior = .run,
            lastBusy: Double = 0) -> WorkerView {
    WorkerView(id: id, typeName: type.name, state: state, idleBehavior: behavior, lastBusy: lastBusy)
}

func plan(_ containers: [ContainerDemand], _ workers: [WorkerView] = [], types: [InstanceType] = [small, medium, large],
          factor: Double = 1.5, limits: Limits = Limits(), backoff: Backoff = Backoff(), creating: Int = 0, callSize: Int = 1,
          now: Double = 100) -> Plan {
    SchedulingPass.plan(containers: containers, workers: workers, eligibility: Eligibility(types: types, maxPriceFactor: factor), limits: limits,
                        backoff: backoff, creating: creating, callSize: callSize, now: now)
}

@Suite struct EligibilityTests {
    @Test func cheapestFitFirstWithinThePriceBand() {
        let e = Eligibility(types: [large, small, medium], maxPriceFactor: 2.5)
        #expect(e.answer(for: demand("a", vcpus: 1, ram: GiB)) == .eligible([small, medium]))
        #expect(e.answer(for: demand("b", vcpus: 3)) == .eligible([medium]))
        #expect(Eligibility(types: [small, medium, large], maxPriceFactor: 1).answer(for: demand("c")) == .eligible([small]))
    }

    @Test func reserveRulesKeepRAMForTheSystem() {
        // small has 4 GiB; 5% (204.8 MiB) is under the 256 MiB floor, so 3.75 GiB is usable.
        let e = Eligibility(types: [small, medium], maxPriceFactor: 3)
        #expect(e.answer(for: demand("a", ram: 3840 << 20)) == .eligible([small, medium]))
        #expect(e.answer(for: demand("b", ram: 3841 << 20)) == .eligible([medium]))
        #expect(Reserve.systemRAM(of: 64 * GiB) == 64 * GiB / 20)
    }

    @Test func marketGPUAndAllowList() {
        let e = Eligibility(types: [small, smallSpot, medium, gpu])
        #expect(e.answer(for: demand("spot", preemptible: true)) == .eligible([smallSpot]))
        #expect(e.answer(for: demand("gpu", gpus: 2)) == .eligible([gpu]))
        #expect(e.answer(for: demand("allowed", allowed: ["medium"])) == .eligible([medium]))
    }

    @Test func aContainerNothingFitsGetsAReasonNamingTheShortfall() {
        let e = Eligibility(types: [small, medium, large])
        guard case .impossible(let why) = e.answer(for: demand("huge", vcpus: 64, ram: 512 * GiB)) else {
            Issue.record("expected impossible")
            return
        }
        #expect(why == "no instance type fits: the largest, large, falls short: 64 vCPUs > 16, 512GiB RAM > 60.8GiB usable")
        guard case .impossible(let gpuWhy) = e.answer(for: demand("g", gpus: 1)) else { return }
        #expect(gpuWhy == "no instance type has cuda GPUs")
        guard case .impossible(let listWhy) = e.answer(for: demand("l", allowed: ["xl"])) else { return }
        #expect(listWhy == "none of its instance_types (xl) is configured")
    }
}

@Suite struct SchedulingPassTests {
    @Test func queuedContainersAreLockedAndGetTheCheapestInstances() {
        let p = plan([demand("a"), demand("b", vcpus: 3)])
        #expect(p.locks == ["a", "b"])
        #expect(p.creates == ["small": 1, "medium": 1])
        #expect(p.statuses == ["a": "waiting for a new small instance to boot", "b": "waiting for a new medium instance to boot"])
    }

    @Test func smallContainersArePackedOntoOneInstance() {
        let p = plan([demand("a", ram: GiB), demand("b", ram: GiB), demand("c", ram: GiB)])
        #expect(p.creates == ["small": 2], "two 1-vCPU containers share a 2-vCPU small; the third needs another")
        #expect(p.statuses["b"] == "waiting for small instance (new) to boot")
    }

    @Test func readyWorkersServeFirstBusyBeforeIdle() {
        let running = demand("r", .running(worker: "w-busy"), vcpus: 1)
        let p = plan([running, demand("a")], [worker("w-idle", small, .idle), worker("w-busy", small, .running)])
        #expect(p.starts == [.init(uuid: "a", worker: "w-busy", gpuDevices: [], needsLock: true)])
        #expect(p.locks == ["a"] && p.creates.isEmpty)
    }

    @Test func aFreshInstanceIsServedBeforeBusyOnesSoItIsNotWasted() {
        var fresh = worker("fresh", small, .idle)
        fresh.fresh = true
        let running = demand("r", .running(worker: "busy"), vcpus: 1)
        let p = plan([running, demand("a")], [worker("busy", small, .running), fresh])
        #expect(p.starts.map(\.worker) == ["fresh"])
    }

    @Test func idleBeforeBootingAndBootingBeforeNew() {
        let p = plan([demand("a"), demand("b"), demand("c"), demand("d")],
                     [worker("boot", small, .booting), worker("idle", small, .idle)])
        #expect(p.starts.map(\.worker) == ["idle", "idle"])
        #expect(p.statuses["c"] == "waiting for small instance boot to boot")
        #expect(p.statuses["d"] == "waiting for small instance boot to boot")
        #expect(p.creates.isEmpty)
    }

    @Test func orderIsLockedThenPriorityThenAge() {
        let containers = [demand("old-low", at: 1), demand("new-high", priority: 9, at: 5), demand("locked", .locked, at: 9),
                          demand("old-high", priority: 9, at: 2)]
        let p = plan(containers, [worker("w", medium, .idle)], factor: 3, limits: Limits(maxInstances: 1))
        // medium has 4 vCPUs: the first four in order fit, in this order.
        #expect(p.starts.map(\.uuid) == ["locked", "old-high", "new-high", "old-low"])
        let q = plan(containers, [worker("w", small, .idle)], limits: Limits(maxInstances: 1))
        #expect(q.starts.map(\.uuid) == ["locked", "old-high"])
        #expect(q.statuses["new-high"] == "at max_instances (1)")
        #expect(q.statuses["old-low"] == "at max_instances (1); 1 waiting ahead of it")
    }

    @Test func deepInALongQueueThePositionIsRoundedSoTheStatusRarelyChanges() {
        let waiting = (0..<1500).map { demand("c\($0)", at: Double($0)) }
        let p = plan(waiting, limits: Limits(maxInstances: 0))
        #expect(p.statuses["c99"] == "at max_instances (0); 99 waiting ahead of it")
        #expect(p.statuses["c100"] == "at max_instances (0); 100+ waiting ahead of it")
        #expect(p.statuses["c250"] == "at max_instances (0); 200+ waiting ahead of it")
        #expect(p.statuses["c1234"] == "at max_instances (0); 1000+ waiting ahead of it")
        // Thirty starts ahead of it later, the status of a container far back is the same: no write.
        let later = plan(Array(waiting.dropFirst(30)), limits: Limits(maxInstances: 0))
        #expect(later.statuses["c1234"] == p.statuses["c1234"])
        #expect(later.statuses["c50"] == "at max_instances (0); 20 waiting ahead of it")
    }

    /// A refusal to create is shared by the containers of one shape behind it, until an
    /// instance is planned: then the next one is judged again (here the spend it would add to).
    @Test func aRefusalHoldsForItsShapeOnlyUntilTheNextPlannedInstance() {
        let containers = [demand("x1", priority: 3, vcpus: 3), demand("y", priority: 2), demand("x2", priority: 1, vcpus: 3),
                          demand("x3", at: 1, vcpus: 3)]
        let p = plan(containers, factor: 10, limits: Limits(maxHourlySpend: 0.15))
        #expect(p.creates == ["small": 1])
        #expect(p.statuses["x1"] == "a medium would take spending past max_hourly_spend (0.00 + 0.20 > 0.15 per hour)")
        #expect(p.statuses["x2"] == "a medium would take spending past max_hourly_spend (0.10 + 0.20 > 0.15 per hour); 2 waiting ahead of it")
        #expect(p.statuses["x3"] == "a medium would take spending past max_hourly_spend (0.10 + 0.20 > 0.15 per hour); 3 waiting ahead of it")
    }

    @Test func positionsRoundToStepsOfOneTwoAndFive() {
        let cases = [(0, "0"), (99, "99"), (100, "100+"), (199, "100+"), (200, "200+"), (499, "200+"), (500, "500+"), (999, "500+"),
                     (1000, "1000+"), (54_000, "50000+"), (100_000, "100000+"), (Int.max, "5000000000000000000+")]
        for (n, text) in cases { #expect(PassState.rounded(n) == text, "\(n)") }
    }

    /// 100 cancels near the head of a 100,000-deep queue move every position behind them by 100:
    /// only the statuses that cross a step change (each change is a queue write next round).
    @Test func aShiftDeepInTheQueueChangesFewStatuses() {
        let changed = (100..<100_000).filter { PassState.rounded($0) != PassState.rounded($0 - 100) }.count
        #expect(changed <= 10 * 100, "\(changed) of 99,900 statuses changed")
    }

    @Test func priorityZeroWaitsAndRunningOnesAreStopped() {
        let p = plan([demand("zero", priority: 0), demand("r", .running(worker: "w"), priority: 0, stop: true)], [worker("w", small, .running)])
        #expect(p.locks.isEmpty && p.creates.isEmpty && p.statuses.isEmpty)
        #expect(p.stops == [.init(id: "r", reason: "cancelled or priority 0")])
    }

    @Test func containersNothingCanRunAreCancelledWithTheReason() {
        let p = plan([demand("huge", vcpus: 99)])
        #expect(p.cancels.map(\.id) == ["huge"])
        #expect(p.cancels[0].reason.hasPrefix("no instance type fits: the largest, large, falls short: 99 vCPUs > 16"))
    }

    @Test func maxInstancesCountsBootingAndPlanned() {
        let p = plan((0..<5).map { demand("c\($0)", vcpus: 2) }, [worker("b", small, .booting)], limits: Limits(maxInstances: 3))
        #expect(p.creates == ["small": 2])
        #expect(p.statuses["c3"] == "at max_instances (3)")
    }

    @Test func theSpendingCapIsNeverExceeded() {
        let p = plan((0..<6).map { demand("c\($0)", vcpus: 2) }, [worker("w", small, .running)],
                     limits: Limits(maxHourlySpend: 0.35))
        // 0.10 running + 2 × 0.10 new = 0.30; a third would make 0.40 > 0.35.
        #expect(p.creates == ["small": 2])
        #expect(p.starts.map(\.worker) == ["w"])
        #expect(p.statuses["c3"]?.hasPrefix("a small would take spending past max_hourly_spend (0.30 + 0.10 > 0.35 per hour)") == true)
    }

    @Test func aLoweredSpendingCapShutsDownIdleInstancesMostExpensiveFirst() {
        let workers = [worker("s1", small, .idle, lastBusy: 99), worker("m1", medium, .idle, lastBusy: 99),
                       worker("l1", large, .idle, lastBusy: 99), worker("l2", large, .running)]
        let p = plan([demand("r", .running(worker: "l2"))], workers, limits: Limits(maxHourlySpend: 1.0))
        #expect(p.shutdowns.map(\.id) == ["l1", "m1"])  // 1.90 → 1.10 → 0.90
    }

    @Test func concurrentCreateCallsAreCapped() {
        let p = plan((0..<10).map { demand("c\($0)", vcpus: 2) }, limits: Limits(maxConcurrentCreates: 3), creating: 1)
        #expect(p.creates == ["small": 2])
        #expect(p.statuses["c2"] == "waiting: 3 create calls are under way (max_concurrent_creates)")
    }

    @Test func eachCreateCallAsksForUpToTheDriversCallSize() {
        let demands = (0..<1000).map { demand("c\($0)", vcpus: 2) }
        let p = plan(demands, limits: Limits(maxInstances: 2000, maxConcurrentCreates: 8), callSize: 100)
        #expect(p.creates == ["small": 800], "8 calls of 100")
        let waiting = p.statuses.values.filter { $0.hasPrefix("waiting: 8 create calls are under way (max_concurrent_creates)") }
        #expect(waiting.count == 200, "the rest wait for a call, each told why")
        let capped = plan(demands, limits: Limits(maxInstances: 250, maxConcurrentCreates: 8), callSize: 100)
        #expect(capped.creates == ["small": 250], "never past max_instances")
    }

    @Test func aCallWithRoomIsFilledBeforeADearerTypeIsTried() {
        let demands = (0..<5).map { demand("c\($0)", vcpus: 2) }
        let p = plan(demands, types: [small, medium], factor: 2.5, limits: Limits(maxConcurrentCreates: 1), callSize: 3)
        #expect(p.creates == ["small": 3], "the rest waits for a call instead of taking a medium")
    }

    @Test func aTypeWithoutCapacityFallsBackToTheNextInTheBand() {
        var backoff = Backoff()
        backoff.record(.capacityType, type: small, now: 90)
        let p = plan([demand("a")], types: [small, medium], factor: 2.5, backoff: backoff)
        #expect(p.creates == ["medium": 1])
        let later = plan([demand("a")], types: [small, medium], factor: 2.5, backoff: backoff, now: 200)
        #expect(later.creates == ["small": 1], "the capacity back-off has a TTL")
    }

    @Test func capacityIsTheCloudsPerProviderTypeAndMarket() {
        let smallB = InstanceType(name: "small-b", providerType: "small", vcpus: 2, ram: 4 * GiB, price: 0.11)
        var backoff = Backoff()
        backoff.record(.capacityType, type: small, now: 90)
        #expect(backoff.blocked(smallB, now: 100) == "no cloud capacity for small-b (small) until 00:02:30",
                "another name for the same provider type has no capacity either")
        #expect(backoff.blocked(smallSpot, now: 100) == nil, "spot is a separate pool")
        let p = plan([demand("spot", preemptible: true), demand("on-demand")], types: [small, smallSpot, medium], factor: 2.5,
                     backoff: backoff)
        #expect(p.creates == ["small-spot": 1, "medium": 1])

        backoff.record(.capacityGlobal, type: smallSpot, now: 90)
        #expect(backoff.blocked(smallSpot, now: 100) == "no spot capacity anywhere until 00:02:30")
        #expect(backoff.blocked(medium, now: 100) == nil, "a spot shortage leaves on-demand alone")
        #expect(backoff.blocked(smallSpot, now: 151) == nil, "with a TTL")

        let familyA = InstanceType(name: "fa", vcpus: 2, ram: 4 * GiB, price: 0.1, quotaGroup: "f")
        let familyB = InstanceType(name: "fb", vcpus: 4, ram: 8 * GiB, price: 0.2, quotaGroup: "f")
        let familyBSpot = InstanceType(name: "fb-spot", providerType: "fb", vcpus: 4, ram: 8 * GiB, price: 0.06, preemptible: true, quotaGroup: "f")
        backoff.record(.capacityFamily, type: familyA, now: 120)
        #expect(backoff.blocked(familyB, now: 160) == "no cloud capacity for the f family until 00:03:00")
        #expect(backoff.blocked(familyBSpot, now: 160) == nil)
    }

    @Test func backOffExplainsItself() {
        var backoff = Backoff()
        backoff.record(.rateLimit(retryAfter: 30), type: small, now: 100)
        let p = plan([demand("a")], backoff: backoff, now: 100)
        #expect(p.creates.isEmpty)
        #expect(p.statuses["a"]?.contains("rate-limited by the cloud; backing off until 00:02:10") == true)
    }

    /// A create refused as `invalid` fails the same way every round: the status says why.
    @Test func aFailedCreateNamesTheCloudsError() {
        var backoff = Backoff()
        backoff.record(.other("loopback.create: invalid: unknown type \"local-small\""), type: small, now: 100)
        let p = plan([demand("a")], backoff: backoff, now: 100)
        #expect(p.statuses["a"]?.contains("cloud call failed: loopback.create: invalid: unknown type \"local-small\"; backing off until") == true,
                "\(p.statuses)")
    }

    @Test func atQuotaLockedContainersAreGivenBackAndIdleInstancesGo() {
        var backoff = Backoff()
        backoff.record(.quota(instanceCount: 2), type: small, now: 50)
        let workers = [worker("busy", small, .running), worker("spare", small, .idle, lastBusy: 99)]
        let p = plan([demand("r", .running(worker: "busy"), vcpus: 2), demand("waiting", .locked, vcpus: 2)], workers, backoff: backoff)
        #expect(p.creates.isEmpty)
        #expect(p.unlocks.map(\.id) == [])
        #expect(p.starts.map(\.worker) == ["spare"], "a locked container still takes a free instance at quota")
        let q = plan([demand("r", .running(worker: "busy"), vcpus: 2), demand("r2", .running(worker: "x"), vcpus: 2),
                      demand("waiting", .locked, vcpus: 2)], [workers[0], worker("x", small, .running)],
                     backoff: backoff)
        #expect(q.unlocks == [.init(id: "waiting", reason: "the cloud account is at its instance quota")])
    }

    @Test func idleTimeoutDrainAndHold() {
        let workers = [worker("fresh", small, .idle, lastBusy: 80), worker("stale", small, .idle, lastBusy: 10),
                       worker("held", small, .idle, behavior: .hold, lastBusy: 0), worker("drained", small, .running, behavior: .drain)]
        let p = plan([demand("r", .running(worker: "drained"))], workers, limits: Limits(idleTimeout: 60))
        #expect(p.shutdowns == [.init(id: "stale", reason: "idle for 90s")])
        let later = plan([], workers.map { var w = $0; w.state = w.id == "drained" ? .idle : w.state; return w }, limits: Limits(idleTimeout: 60))
        #expect(later.shutdowns.map(\.id).sorted() == ["drained", "stale"])
    }

    /// A drained worker not yet heard from may hold a result nobody recorded: it is shut down
    /// only once it answered (idle), a booting one (made by us, nothing started) at once.
    @Test func aDrainedWorkerIsShutDownOnlyOnceHeardFrom() {
        let workers = [worker("unheard", small, .unknown, behavior: .drain), worker("booting", small, .booting, behavior: .drain)]
        #expect(plan([], workers).shutdowns == [.init(id: "booting", reason: "draining")])
        let answered = plan([], workers.map { var w = $0; w.state = .idle; return w })
        #expect(answered.shutdowns.map(\.id).sorted() == ["booting", "unheard"])
    }

    @Test func heldAndDrainingWorkersTakeNothingNew() {
        let p = plan([demand("a")], [worker("held", small, .idle, behavior: .hold), worker("drain", small, .idle, behavior: .drain)])
        #expect(p.starts.isEmpty && p.creates == ["small": 1])
    }

    @Test func aWorkerOfAnUnconfiguredTypeIsDrained() {
        let p = plan([demand("r", .running(worker: "old"))], [WorkerView(id: "old", typeName: "retired", state: .running, lastBusy: 0)])
        #expect(p.drains == ["old"])
        #expect(p.shutdowns.isEmpty, "not while it runs something")
    }

    @Test func gpusGetDistinctDevices() {
        let p = plan([demand("g1", gpus: 1), demand("g2", gpus: 1), demand("g3", gpus: 1)], [worker("gw", gpu, .idle)], types: [gpu])
        #expect(p.starts.map(\.gpuDevices) == [[0], [1]])
        #expect(p.creates == ["gpu": 1])
    }

    @Test func maxContainersPerInstance() {
        let p = plan((0..<4).map { demand("c\($0)", ram: 256 << 20) }, [worker("w", large, .idle)], factor: 10,
                     limits: Limits(maxContainersPerInstance: 3))
        #expect(p.starts.count == 3 && p.creates == ["small": 1])
    }

    @Test func theSamePassGivesTheSamePlan() {
        let containers = (0..<200).map { demand("c\($0)", priority: $0 % 7, at: Double($0 % 13), vcpus: 1 + $0 % 3) }
        let workers = (0..<20).map { worker("w\($0)", [small, medium, large][$0 % 3], $0 % 4 == 0 ? .booting : .idle) }
        #expect(plan(containers, workers) == plan(containers.reversed(), workers.reversed()))
    }
}
