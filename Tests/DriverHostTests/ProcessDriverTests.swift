import DriverHost
import Foundation
import Testing
import TestSupport

/// `driver.isolation: process`: the driver runs in a host process of its own; when it dies,
/// the calls in flight fail `transient`, it is started again with its instance sets, and this
/// process carries on.
@Suite struct ProcessDriverTests {
    func start(_ product: String, as name: String, logger: LogCapture? = nil) async throws -> (ProcessDriver, TemporaryFolder) {
        let folder = try TemporaryFolder.plugins([(product, name)])
        var policy = ProcessDriver.RestartPolicy()
        policy.initialDelay = .milliseconds(20)
        policy.maximumDelay = .milliseconds(200)
        let started = await ProcessDriver.start(path: folder.path + "/" + name, executable: Harness.cloudDispatch, callTimeout: .seconds(30),
                                                restart: policy, logger: logger?.logger ?? quietLogger)
        return (try started.get(), folder)
    }

    @Test func servesTheSameOperationsAsInProcess() async throws {
        let (driver, folder) = try await start("libfixture_misbehave.so", as: "libcdd_misbehave.so")
        defer { folder.remove() }
        #expect(driver.info.id == "misbehave")
        #expect(try await driver.capabilities().maxCreateCount == 10)
        let set = try await driver.openInstanceSet(id: "iso", config: #"{"mode": "ok"}"#)
        #expect(try await set.instanceTypes().map(\.providerType) == ["t1"])
        let made = try await set.create(CreateRequest(instanceType: MisbehavingDriverTests.type, tags: ["k": "v"], count: 2))
        #expect(made.count == 2)
        #expect(try await set.list(tags: ["k": "v"]).map(\.id).sorted() == made.map(\.id).sorted())
        // A driver's own error keeps its class and record across the pipe.
        let failing = try await driver.openInstanceSet(id: "err", config: #"{"mode": "error"}"#)
        await #expect(throws: DriverError.self) { try await failing.list(tags: [:]) }
        do { _ = try await failing.list(tags: [:]) } catch {
            #expect(error.errorClass == .capacityType)
            #expect(error.providerCode == "InsufficientInstanceCapacity")
            #expect(error.retryAfter == .milliseconds(1500))
        }
        await set.close()
        await driver.stop()
    }

    @Test func aDriverThatSegfaultsEveryThirdCallLeavesUsUpAndKeepsAnswering() async throws {
        let log = LogCapture()
        let (driver, folder) = try await start("libfixture_crashy.so", as: "libcdd_crashy.so", logger: log)
        defer { folder.remove() }
        let set = try await driver.openInstanceSet(id: "crashy", config: #"{"mode": "ok"}"#)
        var answered = 0
        var failures: [DriverError] = []
        let deadline = ContinuousClock.now + .seconds(120)
        while answered < 20 && ContinuousClock.now < deadline {
            do {
                _ = try await set.list(tags: [:])
                answered += 1
            } catch {
                failures.append(error)
                try await Task.sleep(for: .milliseconds(10))  // a caller retrying, as the pool does on its next round
            }
        }
        #expect(answered >= 20, "failures: \(failures.map(\.description))")
        #expect(!failures.isEmpty)
        #expect(failures.allSatisfy { $0.errorClass == .transient }, "\(failures.map(\.description))")
        let crashes = await driver.crashes
        #expect(crashes >= 5, "answered \(answered), failures: \(failures.map(\.description))")
        #expect(await driver.health.contains("killed by SIGSEGV"))
        let died = log.lines.filter { $0.message == "driver process died" }
        #expect(died.first?.metadata["cause"] == "killed by SIGSEGV")
        await driver.stop()
    }

    @Test func aDeathIsSeenEvenWhenTheDriverStartedChildrenOfItsOwn() async throws {
        let (driver, folder) = try await start("libcdd_loopback.so", as: "libcdd_loopback.so")
        defer { folder.remove() }
        let state = folder.path + "/state"
        let set = try await driver.openInstanceSet(id: "lb", config: #"{"state_dir": "\#(state)"}"#)
        let type = InstanceTypeSpec(name: "local", providerType: "local", vcpus: 1, ram: 1 << 30, price: 0)
        // Each loopback instance is an sshd the driver started; it outlives the driver process, as a VM would.
        let made = try await set.create(CreateRequest(instanceType: type, tags: ["t": "lb"], count: 1))
        let driverProcess = try #require(Harness.processes(mentioning: "driver-process").first { Harness.commandLine($0).contains(folder.path) })
        kill(driverProcess, SIGSEGV)
        #expect(await Harness.eventually(30) { await driver.crashes == 1 })
        // Started again with its set: the instance is still there to destroy.
        var destroyed: [String] = []
        #expect(await Harness.eventually(30) {
            destroyed = (try? await set.destroy(ids: made.map(\.id)).destroyed) ?? []
            return !destroyed.isEmpty
        })
        #expect(destroyed == made.map(\.id))
        #expect(await Harness.eventually(10) { Harness.processes(mentioning: state).isEmpty }, "sshd left behind")
        await driver.stop()
    }

    @Test func aFileThatCannotLoadIsRefusedWithItsReason() async throws {
        let folder = try TemporaryFolder.plugins([("libfixture_tiny.so", "libcdd_tiny.so")])
        defer { folder.remove() }
        let started = await ProcessDriver.start(path: folder.path + "/libcdd_tiny.so", executable: Harness.cloudDispatch,
                                                callTimeout: .seconds(30), logger: quietLogger)
        guard case .failure(let refusal) = started else {
            Issue.record("the tiny driver started")
            return
        }
        #expect(refusal.reason.hasPrefix("function table too small"))
    }
}
