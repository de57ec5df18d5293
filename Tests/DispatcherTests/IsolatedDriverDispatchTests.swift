import DriverHost
import Foundation
import Queue
import Scheduler
import Simulation
import SQLiteQueue
import Testing
import TestSupport
import WorkerPool

/// `driver.isolation: process` under the whole dispatcher: a driver whose process segfaults on
/// every third call costs retries, never the dispatcher, and every container still runs.
@Suite struct IsolatedDriverDispatchTests {
    @Test func theQueueKeepsMovingWhileTheDriverProcessCrashesEveryThirdCall() async throws {
        let folder = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: Harness.buildFolder + "/libfixture_crashy.so", toPath: folder + "/libcdd_crashy.so")
        chmod(folder + "/libcdd_crashy.so", 0o755)
        var policy = ProcessDriver.RestartPolicy()
        policy.initialDelay = .milliseconds(10)
        policy.maximumDelay = .milliseconds(100)
        let driver = try await ProcessDriver.start(path: folder + "/libcdd_crashy.so", executable: Harness.cloudDispatch, callTimeout: .seconds(30),
                                                   restart: policy, logger: SimWorld.quiet).get()
        // The fixture keeps its instances in a file, as a cloud keeps them whatever happens to the driver.
        let set = try await driver.openInstanceSet(id: "crashy-test", config: #"{"state_file": "\#(folder)/instances.json"}"#)
        let store = try SQLiteContainerStore.open(path: folder + "/queue.sqlite3", policy: QueuePolicy(maxDispatchAttempts: 50))
        let types = [InstanceType(name: "t1", providerType: "t1", vcpus: 2, ram: 4 << 30, scratch: 0, price: 0.1, quotaGroup: "all")]
        var settings = WorkerPool.Settings(instanceSetID: "crashy-test")
        settings.bootTimeout = 300
        settings.probeTimeout = 120
        settings.use(try await driver.capabilities())
        let clock = VirtualClock(start: 1_000_000)
        let dispatcher = SimWorld.makeDispatcher(set: set, executor: SimulatedExecutor(seed: 3, bootDelay: 10...30, neverBootRate: 0), store: store,
                                                 settings: settings, limits: Limits(maxInstances: 4, idleTimeout: 120), clock: clock, types: types)
        let uuids = try await store.submit((0..<12).map { _ in
            ContainerSpec(command: ["sim", "60", "0"], priority: 1, runtimeConstraints: RuntimeConstraints(vcpus: 1, ram: 1 << 30))
        }).map(\.uuid)

        var states: [ContainerState] = []
        let end = clock.now + 36_000
        while clock.now < end {
            await dispatcher.tick(now: clock.now)
            states = []
            for uuid in uuids { states.append(try await store.get(uuid).state) }
            if states.allSatisfy(\.isFinal) { break }
            clock.now += 10
        }
        #expect(states.allSatisfy { $0 == .complete }, "\(states)")
        #expect(await driver.crashes > 0)
        #expect(await driver.health.contains("killed by SIGSEGV"))
        await driver.stop()
    }
}
