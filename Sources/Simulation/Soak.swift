import DriverHost
import Logging
import Queue
import Scheduler
import WorkerPool

/// A long faulty run on a simulated cloud, with the dispatcher killed and restarted along the
/// way; shared by the soak test and `cloud-dispatch bench soak`. Arrivals come in ten waves
/// (mixed sizes, run times and priorities, some failing), workers die now and then, and the
/// dispatcher restarts after every third wave; then it runs until every container is final
/// and the instances are gone.
public enum Soak {
    public struct Report: Sendable {
        public var containers = 0
        public var complete = 0
        public var failedExit = 0
        public var cancelled = 0
        public var cancelledWithoutReason = 0
        public var requeued = 0
        public var notFinal = 0
        public var starts = 0
        public var violations: [String] = []
        public var instancesLeft = 0
        public var rounds = 0
        public var virtualSeconds = 0.0
        public var cloudCalls: [String: Int] = [:]
        /// What the cloud listed every round, held to the rules.
        public var census = CloudCensus()
        public var rules = CloudRules(maxInstances: 0, bootFailuresPerHour: 0, wave: 0)
        public var intents = 0
        public var createCalls = 0
        public var bootFailures = BootFailureCount(launches: [], rules: CloudRules(maxInstances: 0, bootFailuresPerHour: 0, wave: 0))
        /// Every breach of the cloud-side rules: too many instances live, an intent with more
        /// instances than it asked for, a create without a token, too many boot failures.
        public var cloudViolations: [String] = []
    }

    public static let types = [
        InstanceType(name: "small", providerType: "sim.small", vcpus: 2, ram: 4 << 30, scratch: 50 << 30, price: 0.10, quotaGroup: "sim"),
        InstanceType(name: "large", providerType: "sim.large", vcpus: 16, ram: 64 << 30, scratch: 400 << 30, price: 0.80, quotaGroup: "sim"),
    ]

    /// `makeDispatcher` builds a fresh dispatcher (a restart) on the same store, cloud and workers;
    /// its pool must create through `recorder`. `listed` lists what the cloud holds for the
    /// instance set (not the pool's view); after every round it is held to `rules`. Instances of
    /// `brokenTypes` (provider types) never boot for the first three waves: a broken image, fixed
    /// at the first restart.
    public static func run(
        count: Int, seed: UInt64, store: any ContainerStore, executor: SimulatedExecutor, clock: VirtualClock,
        maxRunTime: Int, rules: CloudRules, recorder: IntentRecorder, brokenTypes: Set<String> = [],
        makeDispatcher: () -> Dispatcher, listed: () async throws -> [Instance]
    ) async throws -> Report {
        var random = SeededRandom(seed: seed)
        var dispatcher = makeDispatcher()
        var report = Report()
        report.rules = rules
        executor.setNeverBootTypes(brokenTypes)
        func census() async {
            // The sim cloud throttles and loses credentials on purpose: ask again.
            for _ in 0..<20 {
                if let instances = try? await listed() {
                    report.census.count(instances, asked: recorder.asked, round: report.rounds, rules: rules)
                    return
                }
            }
            report.census.missedListing()
        }
        let start = clock.now
        let perWave = max(1, count / 10)
        for wave in 0..<10 {
            var specs: [ContainerSpec] = []
            for _ in 0..<perWave {
                let seconds = Int.random(in: 60...maxRunTime, using: &random)
                let exit = random.next() % 10 == 0 ? 1 : 0
                let big = random.next() % 8 == 0
                specs.append(
                    ContainerSpec(
                        command: ["sim", String(seconds), String(exit)], priority: Int.random(in: 1...5, using: &random),
                        runtimeConstraints: RuntimeConstraints(
                            vcpus: big ? 8 : Int.random(in: 1...2, using: &random),
                            ram: big ? 16 << 30 : 1 << 30)))
            }
            _ = try await store.submit(specs)
            for tick in 0..<60 {
                await dispatcher.placeArrivals(now: clock.now)  // as serve does on the submit's wake-up
                await dispatcher.tickAndSettle(now: clock.now)
                report.rounds += 1
                await census()
                clock.now += 30
                if tick % 20 == 7, let victim = executor.liveNodes.randomElement(using: &random) { executor.kill(victim) }
            }
            if wave % 3 == 2 {
                if wave == 2 { executor.setNeverBootTypes([]) }
                dispatcher = makeDispatcher()
            }
        }
        // Until every container is final, then until the idle instances are gone.
        var idleRounds = 0
        while clock.now - start < 2_000_000 {
            await dispatcher.tickAndSettle(now: clock.now)
            report.rounds += 1
            await census()
            clock.now += 30
            if try await store.list(ContainerQuery(states: [.queued, .locked, .running], limit: 1)).items.isEmpty {
                idleRounds += 1
                if idleRounds > 20, (try? await listed())?.isEmpty == true { break }
            }
        }
        report.virtualSeconds = clock.now - start
        var after: String?
        repeat {
            let page = try await store.list(ContainerQuery(after: after, limit: ContainerQuery.maxLimit))
            for c in page.items {
                report.containers += 1
                switch c.state {
                case .complete:
                    report.complete += 1
                    if c.exitCode != 0 { report.failedExit += 1 }
                case .cancelled:
                    report.cancelled += 1
                    if (c.runtimeStatus.error ?? "").isEmpty { report.cancelledWithoutReason += 1 }
                default: report.notFinal += 1
                }
                if c.lockCount > 0 { report.requeued += 1 }
            }
            after = page.next
        } while after != nil
        report.starts = executor.startCount
        report.violations = executor.violations
        // The sim cloud throttles some calls on purpose: a failed listing (-1) is asked again,
        // so the verdict is about instances left, never about one throttled call.
        var left = (try? await listed())?.count ?? -1
        for _ in 0..<20 where left < 0 { left = (try? await listed())?.count ?? -1 }
        report.instancesLeft = left
        report.intents = recorder.asked.count
        report.createCalls = recorder.createCalls
        report.bootFailures = BootFailureCount(launches: executor.neverBootLaunches, rules: rules)
        report.cloudViolations = recorder.problems + report.census.violations + (report.bootFailures.violation.map { [$0] } ?? [])
        for (op, n) in await dispatcher.pool.cloudCalls.counts { report.cloudCalls[op.rawValue] = n }
        return report
    }
}

extension Soak.Report: CustomStringConvertible {
    public var description: String {
        "\(containers) containers: \(complete) complete (\(failedExit) with a failing exit code), \(cancelled) cancelled "
            + "(\(cancelledWithoutReason) without a reason), \(notFinal) not final, \(requeued) requeued at least once, "
            + "\(starts) starts, \(violations.count) run twice at once, \(instancesLeft) tagged instances left; "
            + "\(rounds) rounds, \(Int(virtualSeconds)) s virtual; "
            + "cloud: \(createCalls) create calls for \(intents) intents, \(census.seen.count) instances launched, "
            + "at most \(census.mostLive) live (max_instances \(rules.maxInstances)), "
            + "\(bootFailures.perHour.reduce(0, +)) launches never booted (per hour \(bootFailures.perHour), "
            + "at most \(bootFailures.mostInAnHour) in an hour; "
            + "ceiling \(rules.bootFailuresPerHour) + \(rules.wave)), \(census.unlistedRounds) rounds unlisted, "
            + "\(cloudViolations.count) cloud violations"
    }
}
