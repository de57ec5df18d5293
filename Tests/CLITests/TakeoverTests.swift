import APIClient
import APIModels
import Foundation
import Queue
import TestSupport
import Testing

/// Two whole daemons (separate `cloud-dispatch serve` processes) on one PostgreSQL queue, each
/// with its own loopback instance set: one is killed for good mid-run, and the other adopts its
/// set — its instances, the containers running there, its stale locks — finishes its work,
/// shuts its instances down, and nothing runs twice; the dead one, restarted, is fenced.
@Suite(.serialized) struct TakeoverTests {
    static let takeoverAfter = 3.0
    static let containers = 200

    struct Setup {
        let folder = Harness.temporaryFolder()
        let database: String
        var runs: String { folder + "/runs" }

        init() async throws {
            database = try await PostgresScratch.database()
            try FileManager.default.createDirectory(atPath: folder + "/runs", withIntermediateDirectories: true)
            // One worker key and one loopback "cloud" for both: a survivor reaches the dead one's
            // instances as that one did (as dispatchers in one account share its credentials).
            let keygen = try ChildProcess("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", folder + "/worker_key"])
            guard await keygen.exit() == 0 else { throw HarnessError("ssh-keygen failed") }
            for id in ["a", "b"] {
                try """
                    dispatcher_id: \(id)
                    queue: {store: "\(database)", takeover_after: \(Int(TakeoverTests.takeoverAfter))s}
                    driver: {config: {state_dir: "\(folder)/loopback"}}
                    scheduling: {idle_timeout: 2s, max_instances: 4}
                    \(EndToEndTests.World.workers("ssh_key: \"\(folder)/worker_key\""))
                    """.write(toFile: config(id), atomically: true, encoding: .utf8)
            }
        }

        func config(_ id: String) -> String { folder + "/\(id).yml" }

        func daemon(_ id: String) throws -> Daemon {
            try Daemon(stateDir: folder + "/state-" + id, extra: ["--config", config(id)], dispatch: true)
        }

        func cleanUp() {
            for pid in Harness.processes(mentioning: folder).filter({ Harness.commandLine($0).hasPrefix("sshd") }) { kill(pid, SIGKILL) }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    @Test func aSurvivorTakesOverADeadDispatchersSetAndTheDeadOneIsFenced() async throws {
        let setup = try await Setup()
        defer { setup.cleanUp() }
        let a = try setup.daemon("a")
        let b = try setup.daemon("b")
        defer {
            a.stopWithoutWaiting()
            b.stopWithoutWaiting()
        }
        guard await a.ready(), await b.ready() else { throw HarnessError("a daemon did not start: \(a.log)\n\(b.log)") }
        let client = try b.client()
        let specs = RunMarks.specs(Self.containers, in: setup.runs, sleep: 1, RuntimeConstraints(vcpus: 1))
        let submitted = try await client.submit(specs)
        #expect(submitted.count == Self.containers)

        // Kill a once it runs some containers (and holds some locks), mid-run.
        var onA: [String] = []
        let runningOnA = await Harness.eventually(240) {
            guard let page = try? await client.list(states: [.running], limit: 1000) else { return false }
            onA = page.items.filter { $0.lockedBy == "a" }.map(\.uuid)
            return onA.count >= 2
        }
        guard runningOnA else { throw HarnessError("a never ran containers: \(a.log)") }
        await a.crash()
        let killedAt = Date()
        let heldByA = try await client.listAll(states: [.locked, .running]).filter { $0.lockedBy == "a" }
        print("a killed holding \(heldByA.filter { $0.state == .running }.count) running, \(heldByA.filter { $0.state == .locked }.count) locked")

        // b takes a's set over within takeover_after and a round or so.
        var tookOverAfter: Double?
        let takenOver = await Harness.eventually(120) {
            guard let members = try? await client.dispatchers(), let member = members.first(where: { $0.id == "a" }) else { return false }
            if member.takenOverBy == "b" {
                tookOverAfter = Date().timeIntervalSince(killedAt)
                return true
            }
            return false
        }
        #expect(takenOver, "b did not take over a: \(b.log)")
        print("takeover after kill -9: \(String(format: "%.1f", tookOverAfter ?? -1)) s (takeover_after \(Self.takeoverAfter) s)")
        #expect((tookOverAfter ?? .infinity) <= Self.takeoverAfter + 15, "took too long after takeover_after")

        // Everything completes, each container exactly once; a's instances are shut down.
        let allDone = await Harness.eventually(600) {
            guard let page = try? await client.list(states: [.complete], limit: 1000) else { return false }
            return page.items.count == Self.containers
        }
        #expect(allDone, "not every container completed: \(b.log.suffix(4000))")
        let counts = RunMarks.counts(in: setup.runs)
        #expect(counts.count == Self.containers, "containers that never ran: \(Self.containers - counts.count)")
        #expect(counts.values.allSatisfy { $0 == 1 }, "ran twice: \(counts.filter { $0.value != 1 }.keys.sorted())")
        // What ran on a when it died was adopted where it ran, its result recorded by the survivor:
        // never requeued, never run again.
        for uuid in onA {
            let c = try await client.get(uuid)
            #expect(c.state == .complete && c.lockCount == 0 && c.lockedBy == "a", "\(uuid): \(c.state), \(c.lockCount) attempts ended")
        }
        let drained = await Harness.eventually(120) {
            (try? await client.dispatchers())?.first(where: { $0.id == "a" })?.state == "drained"
        }
        #expect(drained, "a's instance set was not drained: \(b.log.suffix(4000))")
        let members = try await client.dispatchers()
        #expect(members.map(\.id) == ["a", "b"])
        #expect(members.first { $0.id == "b" }?.state == "active")
        let (status, _, listing) = try await b.cli(["dispatchers"])
        #expect(status == 0 && listing.contains("drained by b") && listing.contains("active"), "\(listing)")
        let (forgetStatus, forgetOutput, _) = try await b.cli(["dispatchers", "--forget", "b"])
        #expect(forgetStatus != 0, "an active dispatcher was forgotten: \(forgetOutput)")

        // a comes back: fenced, with who took it over and when, and it does nothing.
        let again = try setup.daemon("a")
        #expect(await Harness.eventually(60) { !again.process.isRunning }, "the fenced daemon kept running: \(again.log)")
        #expect(again.process.terminationStatus == 1)
        #expect(again.log.contains("dispatcher id \"a\" was taken over by dispatcher \"b\" at 20"), "\(again.log)")

        // Forgotten once drained, the id starts again.
        let (forgotten, output, _) = try await b.cli(["dispatchers", "--forget", "a"])
        #expect(forgotten == 0, "\(output)")
        let back = try setup.daemon("a")
        #expect(await back.ready(), "a forgotten id did not start again: \(back.log)")
        #expect(await back.stop() == 0)
        #expect(await b.stop() == 0)
    }
}
