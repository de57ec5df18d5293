import Foundation
import DriverHost
import Synchronization

/// Wraps the sim's instance set and counts what reaches the cloud, independently of the pool's
/// own bookkeeping: calls per operation, instances per create, ids per destroy, the most create
/// calls under way at once. It can also fail the next N list calls (a cloud that is down).
final class CountingInstanceSet: InstanceSet {
    struct Counts {
        var calls: [String: Int] = [:]
        var createSizes: [Int] = []
        var destroySizes: [Int] = []
        var createsNow = 0
        var mostConcurrentCreates = 0
        var failLists = 0
        /// Create calls that act, then lose their answer (a connection reset after the cloud acted).
        var loseCreateAnswers = 0
        /// Destroy calls that act, then lose their answer.
        var loseDestroyAnswers = 0
        /// Destroy calls the cloud accepts and does not carry out (the instance stays listed).
        var ignoreDestroys = 0
        /// The most instances the cloud had at once.
        var mostAlive = 0
        /// Each create's `first_send`, in call order, by idempotency token.
        var firstSends: [String: [Bool]] = [:]

        /// Tokens whose first call did not say first_send, or whose later calls did.
        var firstSendMistakes: [String: [Bool]] {
            firstSends.filter { $0.value != [true] + Array(repeating: false, count: $0.value.count - 1) }
        }
    }

    let inner: any InstanceSet
    let counts = Mutex(Counts())
    /// Calls held before they reach the cloud (a cloud that does not answer), until released.
    let heldCreates = Gate()
    let heldDestroys = Gate()
    /// List answers held after the cloud was listed (an answer that comes late, and old).
    let heldListAnswers = Gate()
    /// Instances the cloud has and we did not destroy: one missing from a list was taken back
    /// by the cloud (a spot reclaim), and `vanished` is told, so the simulated VM dies too.
    private let alive = Mutex(Set<String>())
    private let vanished: @Sendable (String) -> Void

    init(_ inner: any InstanceSet, vanished: @escaping @Sendable (String) -> Void = { _ in }) {
        self.inner = inner
        self.vanished = vanished
    }

    var id: String { inner.id }
    var driverID: String { inner.driverID }
    var snapshot: Counts { counts.withLock { $0 } }
    func failNextLists(_ n: Int) { counts.withLock { $0.failLists = n } }
    func loseNextCreateAnswers(_ n: Int) { counts.withLock { $0.loseCreateAnswers = n } }
    func loseNextDestroyAnswers(_ n: Int) { counts.withLock { $0.loseDestroyAnswers = n } }
    func ignoreNextDestroys(_ n: Int) { counts.withLock { $0.ignoreDestroys = n } }

    func create(_ request: CreateRequest) async throws(DriverError) -> [Instance] {
        counts.withLock { c in
            c.calls["create", default: 0] += 1
            c.createSizes.append(request.count)
            if let token = request.idempotencyToken { c.firstSends[token, default: []].append(request.firstSend == true) }
            c.createsNow += 1
            c.mostConcurrentCreates = max(c.mostConcurrentCreates, c.createsNow)
        }
        defer { counts.withLock { $0.createsNow -= 1 } }
        await heldCreates.pass()
        let made = try await inner.create(request)
        let count = alive.withLock { $0.formUnion(made.map(\.id)); return $0.count }
        let lose: Bool = counts.withLock { c in
            c.mostAlive = max(c.mostAlive, count)
            defer { c.loseCreateAnswers = max(0, c.loseCreateAnswers - 1) }
            return c.loseCreateAnswers > 0
        }
        if lose { throw DriverError(.transient, "connection reset after the cloud acted", driver: "sim", operation: "create") }
        return made
    }

    func list(tags: [String: String]) async throws(DriverError) -> [Instance] {
        let fail: Bool = counts.withLock { c in
            c.calls["list", default: 0] += 1
            defer { c.failLists = max(0, c.failLists - 1) }
            return c.failLists > 0
        }
        if fail { throw DriverError(.transient, "simulated outage", driver: "sim", operation: "list") }
        let listed = try await inner.list(tags: tags)
        let gone: Set<String> = alive.withLock { known in
            let gone = known.subtracting(listed.map(\.id))
            known.subtract(gone)
            return gone
        }
        for id in gone.sorted() { vanished(id) }
        await heldListAnswers.pass()
        return listed
    }

    func destroy(ids: [String]) async throws(DriverError) -> DestroyResult {
        counts.withLock { c in
            c.calls["destroy", default: 0] += 1
            c.destroySizes.append(ids.count)
        }
        await heldDestroys.pass()
        let ignore: Bool = counts.withLock { c in
            defer { c.ignoreDestroys = max(0, c.ignoreDestroys - 1) }
            return c.ignoreDestroys > 0
        }
        if ignore {  // the answer a destroy that took them would give
            let answer = try! JSONEncoder().encode(["destroyed": ids, "failed": []])
            return try! JSONDecoder().decode(DestroyResult.self, from: answer)
        }
        let result = try await inner.destroy(ids: ids)
        alive.withLock { $0.subtract(result.destroyed) }
        for id in result.destroyed { vanished(id) }  // the VM is gone at once, whatever the answer
        let lose: Bool = counts.withLock { c in
            defer { c.loseDestroyAnswers = max(0, c.loseDestroyAnswers - 1) }
            return c.loseDestroyAnswers > 0
        }
        if lose { throw DriverError(.transient, "connection reset after the cloud acted", driver: "sim", operation: "destroy") }
        return result
    }

    func setTags(ids: [String], tags: [String: String]) async throws(DriverError) {
        counts.withLock { $0.calls["setTags", default: 0] += 1 }
        try await inner.setTags(ids: ids, tags: tags)
    }

    func instanceTypes() async throws(DriverError) -> [CatalogInstanceType] { try await inner.instanceTypes() }
    func quotaGroup(providerType: String, preemptible: Bool) async throws(DriverError) -> String {
        try await inner.quotaGroup(providerType: providerType, preemptible: preemptible)
    }
    func close() async { await inner.close() }
}

/// Holds whoever passes while closed, and lets them all go when opened; counts who waits.
final class Gate: CallHold {
    private let state = Mutex<(closed: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func close() { state.withLock { $0.closed = true } }

    func open() {
        let waiting = state.withLock { s in
            s.closed = false
            defer { s.waiting = [] }
            return s.waiting
        }
        for w in waiting { w.resume() }
    }

    var waiting: Int { state.withLock { $0.waiting.count } }

    func pass() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let go = state.withLock { s in
                if s.closed { s.waiting.append(c) }
                return !s.closed
            }
            if go { c.resume() }
        }
    }
}
