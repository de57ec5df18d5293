import DriverHost
import Foundation
import Synchronization
import Units

/// Certifies a loaded driver against the ABI contract: the checks of `cloud-dispatch
/// driver-test`. Everything it creates carries the tag `cdd-conformance-run: <run id>` in
/// its own instance set, and it destroys all of it at the end — after a failed check and
/// after cancellation (Ctrl-C) too — so a run against a real account leaves nothing behind.
///
///     let kit = ConformanceKit(driver: loaded, config: #"{"state_dir": "/tmp/lb"}"#)
///     let report = await kit.run()
///     print(report.table())          // one PASS/FAIL/SKIP line per check
///
/// Drivers whose capabilities say `simulated` are exercised fully; a real cloud's driver
/// creates instances only when `live` is set (they cost money), otherwise those checks are
/// skipped and say so.
public struct ConformanceKit: Sendable {
    public var driver: NativeDriver
    public var config: String
    public var live = false
    /// Instance-set id the kit opens; keep it apart from any production set.
    public var instanceSetID = "cdd-conformance"
    /// Provider type to create; default: the cheapest type of the driver's catalogue.
    public var providerType: String?
    public var image: String?
    /// How long to wait for a change to show in `list` (eventually consistent clouds).
    public var settle: Duration = .seconds(60)
    /// How long cleanup keeps retrying destroy and list through throttling and transient
    /// errors before it gives up and reports the ids still there.
    public var cleanupDeadline: Duration = .seconds(600)
    /// The waits before a call the driver throttled is sent again, in the checks (for at most
    /// `settle`) and between cleanup rounds (the driver's retry-after wins when it gives one).
    public var retryDelay = RetryDelay(initial: .seconds(1), cap: .seconds(30))
    /// Called as each check finishes.
    public var progress: @Sendable (CheckResult) -> Void = { _ in }

    public static let runTag = "cdd-conformance-run"
    public static let kitTag = "cdd-conformance"
    public static let setTag = "cloud-dispatch-instance-set"

    public init(driver: NativeDriver, config: String) {
        self.driver = driver
        self.config = config
    }

    public func run() async -> ConformanceReport {
        let recorder = Recorder(progress: progress)
        let runID = "run-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let session = Session(kit: self, recorder: recorder, runID: runID)
        await session.runChecks()
        let interrupted = Task.isCancelled
        // Cleanup runs even when the run was cancelled: in a task of its own.
        await Task.detached { await session.cleanUp() }.value
        return ConformanceReport(
            driver: driver.info.id, checks: await recorder.results, interrupted: interrupted,
            leftovers: session.state.leftovers)
    }
}

/// Collects results in order.
actor Recorder {
    private(set) var results: [CheckResult] = []
    let progress: @Sendable (CheckResult) -> Void

    init(progress: @escaping @Sendable (CheckResult) -> Void) { self.progress = progress }

    func add(_ result: CheckResult) {
        results.append(result)
        progress(result)
    }

    /// Runs `body` as the check `name` and records it; a thrown error fails it, `Skip` skips
    /// it, and after cancellation it is skipped as "interrupted" without running.
    nonisolated func check(_ name: String, _ body: () async throws -> String) async {
        if Task.isCancelled {
            await add(CheckResult(name: name, outcome: .skip, detail: "interrupted", seconds: 0))
            return
        }
        let start = ContinuousClock.now
        let outcome: CheckResult.Outcome
        let detail: String
        do {
            detail = try await body()
            outcome = .pass
        } catch let skip as Skip {
            outcome = .skip
            detail = skip.reason
        } catch {
            outcome = .fail
            detail = "\(error)"
        }
        await add(CheckResult(name: name, outcome: outcome, detail: detail, seconds: (ContinuousClock.now - start).inSeconds))
    }
}

/// A check that failed; its message becomes the report's detail.
struct CheckFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One run's state: the open set and everything created.
final class Session: Sendable {
    let kit: ConformanceKit
    let recorder: Recorder
    let runID: String
    let state = StateBox()

    init(kit: ConformanceKit, recorder: Recorder, runID: String) {
        self.kit = kit
        self.recorder = recorder
        self.runID = runID
    }

    var driver: NativeDriver { kit.driver }
    var tags: [String: String] {
        [ConformanceKit.kitTag: "1", ConformanceKit.runTag: runID, ConformanceKit.setTag: kit.instanceSetID]
    }

    /// Runs `body` as the check `name`; a thrown error fails it, `Skip` skips it.
    func check(_ name: String, _ body: () async throws -> String) async {
        await recorder.check(name, body)
    }

    func runChecks() async {
        var capabilities: Capabilities?
        await check("negotiate") { "agreed ABI \(driver.info.abi) (host \(ABIVersion.host))" }
        await check("capabilities") {
            let c = try await driver.capabilities()
            capabilities = c
            return "simulated=\(c.simulated) idempotent_create=\(c.idempotentCreate) max_create_count=\(c.maxCreateCount)"
        }
        await check("open_set rejects malformed config") {
            for bad in ["not json", "[]", Self.withUnknownKey(kit.config)] {
                do {
                    let set = try await driver.openNativeInstanceSet(id: kit.instanceSetID + "-bad", config: bad)
                    await set.close()
                    throw CheckFailure("accepted config \(bad.prefix(60))")
                } catch let error as DriverError where error.errorClass == .invalid {
                    continue
                } catch let error as DriverError {
                    throw CheckFailure("config \(bad.prefix(40)) gave \(error.errorClass.name), expected invalid")
                }
            }
            return "3 malformed configs refused as invalid"
        }
        await check("open_set") {
            let set = try await driver.openNativeInstanceSet(id: kit.instanceSetID, config: kit.config)
            state.set = set
            return "instance set \(kit.instanceSetID)"
        }
        guard let set = state.set else { return }
        var type: CatalogInstanceType?
        await check("instance_types") {
            let types = try await set.instanceTypes()
            guard !types.isEmpty else { throw CheckFailure("empty catalogue") }
            if let wanted = kit.providerType {
                guard let match = types.first(where: { $0.providerType == wanted }) else {
                    throw CheckFailure("catalogue has no \(wanted)")
                }
                type = match
            } else {
                type = types.min { ($0.price ?? .infinity, $0.vcpus) < ($1.price ?? .infinity, $1.vcpus) }
            }
            return "\(types.count) types; using \(type!.providerType)"
        }
        await check("quota_group") {
            guard let type else { throw Skip("no instance type") }
            let group = try await set.quotaGroup(providerType: type.providerType, preemptible: false)
            return "\(type.providerType) counts against \"\(group)\""
        }
        await RequestChecks(session: self, set: set).run()
        await ContractChecks(session: self, set: set).run()

        guard let capabilities, let type else { return }
        guard capabilities.simulated || kit.live else {
            await check("create and destroy") {
                throw Skip("\(driver.info.id) creates real instances: run with --live to create, list, tag and destroy them")
            }
            return
        }
        await CreationChecks(session: self, set: set, type: type, capabilities: capabilities).run()
    }

    /// The configuration with one unknown key added (or a non-object left as is).
    static func withUnknownKey(_ config: String) -> String {
        guard var object = try? JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any] else { return config }
        object["cdd_conformance_unknown_key"] = 1
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Instances a create returned: cleanup must see them gone.
    func remember(_ instances: [Instance]) { state.created.withLock { $0.formUnion(instances.map(\.id)) } }
    /// Instances a check destroyed itself.
    func forget(_ ids: [String]) { state.created.withLock { $0.subtract(ids) } }

    /// Destroys everything this run created and anything the kit ever tagged in its instance
    /// set, retrying until the listing shows none of it or the cleanup deadline passes.
    func cleanUp() async {
        let set: NativeInstanceSet?
        if let open = state.set {
            set = open
        } else {
            set = try? await driver.openNativeInstanceSet(id: kit.instanceSetID, config: kit.config)
        }
        guard let set else { return }
        await check("cleanup") {
            let capabilities = try? await driver.capabilities()
            let created = state.created.withLock { $0 }
            guard capabilities?.simulated == true || kit.live || !created.isEmpty else {
                throw Skip("nothing was created")
            }
            let cleanup = Cleanup(
                set: set, filter: [ConformanceKit.kitTag: "1", ConformanceKit.setTag: kit.instanceSetID],
                created: created, deadline: kit.cleanupDeadline,
                backoff: kit.retryDelay, maxDestroyBatch: capabilities?.maxDestroyBatch ?? 1)
            let outcome = await cleanup.run()
            let retries = outcome.retries == 0 ? "" : " (\(outcome.retries) retries)"
            guard outcome.leftovers.isEmpty else {
                state.leftovers = outcome.leftovers
                throw CheckFailure(
                    "\(outcome.leftovers.count) instances left: \(outcome.leftovers.joined(separator: " "))"
                        + "\(retries); \(outcome.reason)")
            }
            return "\(outcome.destroyed.count) leftover instances destroyed; none remain\(retries)"
        }
        await set.close()
    }
}

/// Skips a check, with the reason in the report.
struct Skip: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// The open set and what the run created, shared by the checks and the cleanup.
final class StateBox: Sendable {
    private let storage = Mutex<NativeInstanceSet?>(nil)
    private let left = Mutex<[String]>([])
    /// Ids created and not yet destroyed by a check.
    let created = Mutex<Set<String>>([])

    var set: NativeInstanceSet? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }

    /// Ids cleanup could not get rid of.
    var leftovers: [String] {
        get { left.withLock { $0 } }
        set { left.withLock { $0 = newValue } }
    }
}
