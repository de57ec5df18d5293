@testable import Scheduler
import Testing

/// The room a pass leaves free on ready workers, for containers that arrive before the next
/// pass, and a plan that yields to what was placed there meanwhile.
@Suite struct FreeRoomTests {
    func planAndRoom(_ containers: [ContainerDemand], _ workers: [WorkerView], limits: Limits = Limits(maxInstances: 2))
        -> (plan: Plan, room: FreeRoom)
    {
        SchedulingPass.planAndRoom(
            containers: containers, workers: workers, eligibility: Eligibility(types: [small, medium], maxPriceFactor: 3),
            limits: limits, backoff: Backoff(), now: 100)
    }

    @Test func anArrivalTakesRoomNobodyWaitingCouldUseAndOnlyOnce() {
        // medium has 4 vCPUs: 3 run, the waiting containers need 2 each, 1 is left.
        let containers = [demand("r", .running(worker: "w"), vcpus: 3), demand("big1", vcpus: 2), demand("big2", vcpus: 2)]
        var (plan, room) = planAndRoom(containers, [worker("w", medium, .running), worker("w2", medium, .running)],
                                       limits: Limits(maxInstances: 2))
        #expect(plan.starts.map(\.uuid) == ["big1", "big2"], "w2 takes both")
        #expect(room.place([demand("two", priority: 9, vcpus: 2)]).isEmpty, "no ready worker has 2 vCPUs left")
        #expect(room.place([demand("one", vcpus: 1)]) == [Plan.Start(uuid: "one", worker: "w", gpuDevices: [], needsLock: true)])
        #expect(room.place([demand("one-more", vcpus: 1)]).isEmpty, "the room it took is gone")
        #expect(room.place([demand("locked", .locked, vcpus: 0)]).isEmpty, "only queued containers arrive")
    }

    @Test func arrivalsAreServedInTheSchedulersOrderAndAClosedWorkerTakesNothing() {
        var (_, room) = planAndRoom([], [worker("w", small, .idle), worker("v", small, .idle)])
        room.close(["v"])
        let starts = room.place([demand("low", vcpus: 2), demand("high", priority: 5, at: 9, vcpus: 2)])
        #expect(starts.map(\.uuid) == ["high"], "w has room for one, v is closed")
        #expect(starts.first?.worker == "w")
    }

    /// What the pass left free fits none of the containers it saw waiting, whatever the queue
    /// and the fleet: an arrival placed there takes nothing from them.
    @Test func noContainerThePassLeftWaitingFitsTheRoomItLeft() {
        var seed: UInt64 = 42
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        for trial in 0..<300 {
            let workers = (0..<(1 + next(6))).map { i in
                worker("w\(i)", [small, medium][next(2)], [.idle, .running, .booting][next(3)])
            }
            let containers = (0..<next(30)).map { i -> ContainerDemand in
                let state: ContainerDemand.State = next(4) == 0 ? .running(worker: "w\(next(workers.count))") : next(5) == 0 ? .locked : .queued
                return demand("c\(i)", state, priority: 1 + next(3), at: Double(next(10)), vcpus: 1 + next(3), ram: Int64(1 + next(3)) * GiB)
            }
            var (plan, room) = planAndRoom(containers, workers, limits: Limits(maxInstances: workers.count + next(2)))
            let started = Set(plan.starts.map(\.uuid))
            let leftWaiting = containers.filter { $0.state == .queued && !started.contains($0.uuid) }
            let placed = room.place(leftWaiting)
            #expect(placed.isEmpty, "trial \(trial): \(placed) fit room the pass had offered them")
        }
    }

    @Test func aPlanYieldsToArrivalsPlacedAfterItsRead() {
        var plan = Plan()
        plan.starts = [
            .init(uuid: "a", worker: "w", gpuDevices: [], needsLock: true), .init(uuid: "b", worker: "v", gpuDevices: [], needsLock: true),
            .init(uuid: "x", worker: "v", gpuDevices: [], needsLock: true), .init(uuid: "l", worker: "w", gpuDevices: [], needsLock: false),
        ]
        plan.locks = ["a", "b", "x", "waits"]
        plan.creates = ["small": 1]
        plan.shutdowns = [.init(id: "w", reason: "idle"), .init(id: "u", reason: "idle")]
        plan.statuses = ["x": "waiting", "waits": "waiting for a new small instance to boot"]
        // Between the read and now, arrival x went to worker w.
        let yielded = plan.yielding(toArrivals: ["x"], on: ["w"])
        #expect(yielded.starts.map(\.uuid) == ["b"], "x is started already; nothing more lands on w")
        #expect(yielded.locks == ["b", "waits"], "a waits for the next pass unlocked; l was locked already")
        #expect(yielded.shutdowns.map(\.id) == ["u"], "w runs x now")
        #expect(yielded.statuses["x"] == nil && yielded.statuses["waits"] != nil)
        #expect(yielded.creates == ["small": 1], "x was not waiting for an instance")

        // Arrival "waits" was to wait for a new instance: the creates wait for the next pass.
        #expect(plan.yielding(toArrivals: ["waits"], on: ["v"]).creates.isEmpty)
        #expect(plan.yielding(toArrivals: [], on: []) == plan)
    }
}
