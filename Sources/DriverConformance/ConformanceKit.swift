import DriverHost
import Foundation
import Synchronization

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
        return ConformanceReport(driver: driver.info.id, checks: await recorder.results, interrupted: interrupted)
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
        if Task.isCancelled {
            await recorder.add(CheckResult(name: name, outcome: .skip, detail: "interrupted", seconds: 0))
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
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        await recorder.add(CheckResult(name: name, outcome: outcome, detail: detail, seconds: seconds))
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
        await check("malformed requests are invalid") {
            let cases: [(DriverOperation, String)] = [
                (.create, "not json"), (.create, "{}"), (.create, #"{"instance_type": 7, "tags": {}, "count": 1}"#),
                (.list, "[]"), (.list, #"{"tags": "x"}"#), (.destroy, #"{"ids": "x"}"#), (.destroy, "{}"),
                (.setTags, "{}"), (.quotaGroup, "{}"),
            ]
            for (operation, body) in cases {
                do {
                    _ = try await set.rawCall(operation, body)
                    throw CheckFailure("\(operation.rawValue) accepted \(body)")
                } catch let error as DriverError where error.errorClass == .invalid {
                    continue
                } catch let error as DriverError {
                    throw CheckFailure("\(operation.rawValue) \(body) gave \(error.errorClass.name): \(error.message)")
                }
            }
            return "\(cases.count) malformed requests refused as invalid"
        }

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

    /// Destroys everything this kit ever tagged in its instance set, then checks it is gone.
    func cleanUp() async {
        let set: NativeInstanceSet?
        if let open = state.set {
            set = open
        } else {
            set = try? await driver.openNativeInstanceSet(id: kit.instanceSetID, config: kit.config)
        }
        guard let set else { return }
        await check("cleanup") {
            guard (try? await driver.capabilities())?.simulated == true || kit.live else {
                throw Skip("nothing was created")
            }
            var destroyed = 0
            for _ in 0..<5 {
                let leftovers = try await set.list(tags: [ConformanceKit.kitTag: "1", ConformanceKit.setTag: kit.instanceSetID])
                if leftovers.isEmpty { return "\(destroyed) leftover instances destroyed; none remain" }
                let result = try await set.destroy(ids: leftovers.map(\.id))
                destroyed += result.destroyed.count
                try await Task.sleep(for: .seconds(1))
            }
            throw CheckFailure("instances still listed after 5 destroy rounds")
        }
        await set.close()
    }
}

/// Skips a check, with the reason in the report.
struct Skip: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// The open set, shared by the checks and the cleanup.
final class StateBox: Sendable {
    private let storage = Mutex<NativeInstanceSet?>(nil)
    var set: NativeInstanceSet? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
