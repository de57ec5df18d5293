import Foundation
import Scheduler
import Simulation
import Units

/// A synthetic queue and fleet for timing the scheduling pass: 50 types (sizes 1–32, six
/// families a few percent apart in price, every fifth preemptible), a fleet of random types (a
/// tenth booting), a tenth of the containers running and the rest waiting, with random needs.
/// The same seed gives the same workload.
public struct SchedulerWorkload: Sendable {
    public var types: [InstanceType]
    public var fleet: [WorkerView]
    public var demands: [ContainerDemand]

    public init(containers: Int, instances: Int, seed: UInt64) {
        let types = Self.types
        self.types = types
        var rng = SeededRandom(seed: seed)
        fleet = (0..<instances).map { i -> WorkerView in
            let t = types[Int.random(in: 0..<types.count, using: &rng)]
            return WorkerView(id: "i-\(i)", typeName: t.name, state: i % 10 == 0 ? .booting : .running, lastBusy: 0)
        }
        demands = (0..<containers).map { i -> ContainerDemand in
            let running = i < containers / 10 && instances > 0
            return ContainerDemand(
                uuid: "c\(i)", state: running ? .running(worker: "i-\(i % instances)") : (i % 3 == 0 ? .locked : .queued),
                priority: Int.random(in: 1...10, using: &rng), createdAt: Double(i),
                needs: Resources(vcpus: Int.random(in: 1...8, using: &rng), ram: Int64(Int.random(in: 1...24, using: &rng)) << 30),
                preemptible: Int.random(in: 0..<5, using: &rng) == 0)
        }
    }

    public static let types: [InstanceType] = (0..<50).map { i in
        let size = 1 << (i % 6)  // 1, 2, 4 ... 32
        let family = 1.0 + Double(i / 6) * 0.03
        return InstanceType(
            name: "t\(i)", vcpus: 2 * size, ram: Int64(4 * size) << 30, scratch: Int64(50 + i) << 30,
            price: 0.05 * Double(size) * family, preemptible: i % 5 == 4)
    }

    /// The best of `repeats` passes over this workload, with room for a tenth more instances.
    public func timePass(repeats: Int) -> PassTiming {
        let eligibility = Eligibility(types: types)
        let limits = Limits(maxInstances: fleet.count + fleet.count / 10)
        var best = Double.infinity
        var decisions = 0
        for _ in 0..<max(1, repeats) {
            var plan = Plan()
            let seconds = ContinuousClock().measure {
                plan = SchedulingPass.plan(
                    containers: demands, workers: fleet, eligibility: eligibility, limits: limits,
                    backoff: Backoff(), now: 1000)
            }
            best = min(best, seconds.inSeconds)
            decisions = plan.decisionCount
        }
        return PassTiming(containers: demands.count, instances: fleet.count, seconds: best, decisions: decisions)
    }

    /// One row of `bench scheduler`.
    public struct PassTiming: Sendable {
        public var containers: Int
        public var instances: Int
        public var seconds: Double
        /// Containers placed, refused or explained, plus instance actions.
        public var decisions: Int

        public static let header = "containers  instances  pass ms  decisions  decisions/s"
        public var line: String {
            "\(String(containers).leftPadded(to: 10))  \(String(instances).leftPadded(to: 9))  \(String(format: "%7.1f", seconds * 1000))  "
                + "\(String(decisions).leftPadded(to: 9))  \(String(format: "%11.0f", Double(decisions) / seconds))"
        }
    }
}
