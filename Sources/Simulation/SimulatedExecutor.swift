import DriverHost
import Synchronization
import WorkerPool

/// Workers that exist only in memory, on a virtual clock: each boots after a seeded delay (or
/// never), runs a container for the time its command says (`["sim", SECONDS, EXIT_CODE]`), and
/// can be made to die. It also watches the one rule that must never break: no container runs
/// twice at once.
///
///     let executor = SimulatedExecutor(seed: 7, bootDelay: 20...90)
///     executor.kill(instanceID)          // the VM dies; its containers vanish without a result
public final class SimulatedExecutor: WorkerExecutor {
    struct Node {
        var bootAt: Double
        var dead = false
        /// Unreachable until then (a network partition); it keeps running its containers.
        var cutOffUntil = -Double.infinity
        var broken = false
        var containers: [String: (endAt: Double, exitCode: Int)] = [:]
        var reported: Set<String> = []
    }

    struct State {
        var nodes: [String: Node] = [:]
        var violations: [String] = []
        var starts = 0
        /// Containers that ignore TERM and KILL (they run to their natural end).
        var stubborn: Set<String> = []
        var stopRequests: [String: Int] = [:]
        /// Starts that act, then lose their answer.
        var loseStartAnswers = 0
        /// Starts lost on the way: nothing starts, and no answer comes.
        var loseStartRequests = 0
        /// Every node each container was started on, so a second copy is found without
        /// looking at every node.
        var startedOn: [String: [String]] = [:]
        var neverBootRate: Double
        /// Provider types whose instances never boot (a broken image for that type).
        var neverBootTypes: Set<String>
        /// When each instance that will never boot was first probed (about its launch).
        var neverBootLaunches: [Double] = []
    }

    let seed: UInt64
    let bootDelay: ClosedRange<Double>
    private let state: Mutex<State>

    public init(seed: UInt64, bootDelay: ClosedRange<Double> = 20...90, neverBootRate: Double = 0, neverBootTypes: Set<String> = []) {
        self.seed = seed
        self.bootDelay = bootDelay
        state = Mutex(State(neverBootRate: neverBootRate, neverBootTypes: neverBootTypes))
    }

    /// When each launched instance that never boots was first seen, in the order seen: the
    /// launches that end in a boot failure.
    public var neverBootLaunches: [Double] { state.withLock { $0.neverBootLaunches } }

    /// Every time a container was found running on two workers at once.
    public var violations: [String] { state.withLock { $0.violations } }
    public var startCount: Int { state.withLock { $0.starts } }
    /// How often each container was started, on any worker.
    public func starts(of uuid: String) -> Int { state.withLock { $0.startedOn[uuid, default: []].count } }

    /// The next `n` starts act (the container runs), then their answer is lost.
    public func loseNextStartAnswers(_ n: Int) { state.withLock { $0.loseStartAnswers = n } }
    /// The next `n` starts are lost on their way: nothing starts, and no answer comes.
    public func loseNextStartRequests(_ n: Int) { state.withLock { $0.loseStartRequests = n } }

    /// The container ignores stop requests (a process stuck in the kernel): it runs on.
    public func ignoreStop(_ uuid: String) { state.withLock { _ = $0.stubborn.insert(uuid) } }
    /// How often a container was asked to stop.
    public func stopRequests(_ uuid: String) -> Int { state.withLock { $0.stopRequests[uuid, default: 0] } }

    /// The VM is cut off until `until`: probes fail, its containers run on.
    public func partition(_ instanceID: String, until: Double) { state.withLock { $0.nodes[instanceID]?.cutOffUntil = until } }
    /// The live instance running `uuid`, if any.
    public func node(running uuid: String) -> String? {
        state.withLock { s in s.nodes.first { !$0.value.dead && $0.value.containers[uuid] != nil }?.key }
    }

    /// From now on, this share of new instances never boots (an image fixed, or broken).
    public func setNeverBootRate(_ rate: Double) { state.withLock { $0.neverBootRate = rate } }

    /// From now on, new instances of these provider types never boot.
    public func setNeverBootTypes(_ types: Set<String>) { state.withLock { $0.neverBootTypes = types } }

    /// The node says it is broken (as a runner's marker file does): it answers, takes nothing.
    public func breakNode(_ instanceID: String) { state.withLock { $0.nodes[instanceID]?.broken = true } }

    /// The VM dies: it stops answering, and what ran on it is lost.
    public func kill(_ instanceID: String) { state.withLock { $0.nodes[instanceID]?.dead = true } }

    /// Instances the executor has seen alive and not killed.
    public var liveNodes: [String] { state.withLock { s in s.nodes.filter { !$0.value.dead }.map(\.key).sorted() } }

    public func probe(_ instance: Instance, now: Double) async -> ProbeResult {
        state.withLock { s in
            if s.nodes[instance.id] == nil {
                // Drawn from the instance id, not a shared sequence: probes run concurrently.
                var random = SeededRandom(seed: seed ^ fnv1a(instance.id))
                let never = random.chance(s.neverBootRate) || s.neverBootTypes.contains(instance.providerType)
                let delay = Double.random(in: bootDelay, using: &random)
                s.nodes[instance.id] = Node(bootAt: never ? .infinity : now + delay)
                if never { s.neverBootLaunches.append(now) }
            }
            let node = s.nodes[instance.id]!
            if node.dead || now < node.bootAt || now < node.cutOffUntil { return .unreachable("SSH connection refused or unreachable (simulated)") }
            if node.broken { return .broken }
            let running = Set(node.containers.filter { $0.value.endAt > now }.map(\.key))
            let finished = node.containers.filter { $0.value.endAt <= now && !node.reported.contains($0.key) }
                .map { FinishedContainer(uuid: $0.key, exitCode: $0.value.exitCode, log: "exit \($0.value.exitCode)\n") }
            s.nodes[instance.id]!.reported.formUnion(finished.map(\.uuid))
            for f in finished { s.nodes[instance.id]!.containers[f.uuid] = nil }
            return .ready(running: running, finished: finished.sorted { $0.uuid < $1.uuid })
        }
    }

    public func start(_ launch: ContainerLaunch, on instance: Instance, now: Double) async throws {
        let dropped: Bool = state.withLock { s in
            defer { s.loseStartRequests = max(0, s.loseStartRequests - 1) }
            return s.loseStartRequests > 0
        }
        if dropped { throw StartUnanswered("timed out: the request was lost (simulated)") }
        try state.withLock { s throws(PoolError) in
            guard let node = s.nodes[instance.id], !node.dead, now >= node.bootAt else { throw PoolError("\(instance.id) is not ready") }
            for id in s.startedOn[launch.uuid, default: []] {
                if let other = s.nodes[id], !other.dead, let c = other.containers[launch.uuid], c.endAt > now {
                    s.violations.append("\(launch.uuid) started on \(instance.id) while running on \(id)")
                }
            }
            s.startedOn[launch.uuid, default: []].append(instance.id)
            let seconds = launch.command.count > 1 ? Double(launch.command[1]) ?? 60 : 60
            let exitCode = launch.command.count > 2 ? Int(launch.command[2]) ?? 0 : 0
            s.nodes[instance.id]!.containers[launch.uuid] = (now + seconds, exitCode)
            s.nodes[instance.id]!.reported.remove(launch.uuid)
            s.starts += 1
        }
        let lost: Bool = state.withLock { s in
            defer { s.loseStartAnswers = max(0, s.loseStartAnswers - 1) }
            return s.loseStartAnswers > 0
        }
        if lost { throw StartUnanswered("timed out: the answer was lost (simulated)") }
    }

    public func stop(_ uuid: String, on instance: Instance, now: Double) async {
        state.withLock { s in
            s.stopRequests[uuid, default: 0] += 1
            if s.nodes[instance.id]?.containers[uuid] != nil && !s.stubborn.contains(uuid) {
                s.nodes[instance.id]!.containers[uuid] = (now, 143)
            }
        }
    }
}

/// A small seeded generator (SplitMix64), so simulations and benchmarks replay exactly.
public struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func chance(_ p: Double) -> Bool { p > 0 && Double.random(in: 0..<1, using: &self) < p }
}

/// A stable 64-bit hash of a string (Swift's own Hasher is seeded per process).
func fnv1a(_ s: String) -> UInt64 {
    s.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
}
