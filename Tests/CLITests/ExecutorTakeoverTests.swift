import APIClient
import APIModels
import Foundation
import Queue
import TestSupport
import Testing

/// Two daemons on the `local` executor backend (one machine, one shared `state_dir`) and one
/// PostgreSQL queue: one is killed for good mid-run, and the other opens the backend under its
/// id, adopts its jobs — the containers running there finish where they run, their results
/// recorded by the survivor — gives back its stale locks, and records it drained; nothing runs
/// twice.
@Suite(.serialized) struct ExecutorTakeoverTests {
    static let containers = 24

    @Test func aSurvivorFinishesADeadExecutorDispatchersJobs() async throws {
        let folder = Harness.temporaryFolder()
        defer {
            for pid in Harness.processes(mentioning: folder) { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: folder)
        }
        let database = try await PostgresScratch.database()
        let plugins = folder + "/plugins"
        for path in [plugins, folder + "/runs", folder + "/work"] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        try FileManager.default.copyItem(atPath: Harness.buildFolder + "/libcdx_local.so", toPath: plugins + "/libcdx_local.so")
        for id in ["a", "b"] {
            try """
                dispatcher_id: \(id)
                queue: {store: "\(database)", takeover_after: 3s}
                executor:
                  name: local
                  plugins: \(plugins)
                  config: {runner: "\(Harness.buildFolder)/cloud-dispatch-runner", state_dir: "\(folder)/work", vcpus: 4, ram: 8589934592}
                  poll_interval: 1s
                  cancel_grace: 2s
                """.write(toFile: "\(folder)/\(id).yml", atomically: true, encoding: .utf8)
        }
        func daemon(_ id: String) throws -> Daemon {
            try Daemon(stateDir: folder + "/state-" + id, extra: ["--config", "\(folder)/\(id).yml"], dispatch: true)
        }
        let a = try daemon("a")
        let b = try daemon("b")
        defer {
            a.stopWithoutWaiting()
            b.stopWithoutWaiting()
        }
        guard await a.ready(), await b.ready() else { throw HarnessError("a daemon did not start: \(a.log)\n\(b.log)") }
        let client = try b.client()
        let specs = RunMarks.specs(Self.containers, in: folder + "/runs", sleep: 3, RuntimeConstraints(vcpus: 1, ram: 64 << 20))
        _ = try await client.submit(specs)

        var onA: [String] = []
        let runningOnA = await Harness.eventually(120) {
            guard let page = try? await client.list(states: [.running], limit: 1000) else { return false }
            onA = page.items.filter { $0.lockedBy == "a" }.map(\.uuid)
            return !onA.isEmpty
        }
        guard runningOnA else { throw HarnessError("a never ran containers: \(a.log)") }
        await a.crash()

        let takenOver = await Harness.eventually(120) {
            (try? await client.dispatchers())?.first { $0.id == "a" }?.takenOverBy == "b"
        }
        #expect(takenOver, "b did not take over a: \(b.log.suffix(4000))")
        let allDone = await Harness.eventually(300) {
            guard let page = try? await client.list(states: [.complete], limit: 1000) else { return false }
            return page.items.count == Self.containers
        }
        #expect(allDone, "not every container completed: \(b.log.suffix(4000))")
        let counts = RunMarks.counts(in: folder + "/runs")
        #expect(counts.count == Self.containers, "containers that never ran: \(Self.containers - counts.count)")
        #expect(counts.values.allSatisfy { $0 == 1 }, "ran twice: \(counts.filter { $0.value != 1 }.keys.sorted())")
        // What ran under a when it died finished where it ran: recorded by the survivor, not run again.
        for uuid in onA {
            let c = try await client.get(uuid)
            #expect(c.state == .complete && c.exitCode == 0 && c.lockCount == 0 && c.lockedBy == "a", "\(uuid): \(c.state), \(c.lockCount) attempts")
        }
        let drained = await Harness.eventually(60) { (try? await client.dispatchers())?.first { $0.id == "a" }?.state == "drained" }
        #expect(drained, "a's jobs were not drained: \(b.log.suffix(4000))")
        #expect(await b.stop() == 0)
    }
}
