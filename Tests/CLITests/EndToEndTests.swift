import APIClient
import Foundation
import Queue
import Testing
import TestSupport

/// The whole system on this machine: `cloud-dispatch serve` with the loopback driver (a real
/// sshd per instance), the SSH executor and the real runner. Faults are real too: processes
/// killed, an instance's sshd killed, the daemon killed with SIGKILL.
@Suite(.serialized) struct EndToEndTests {
    /// A daemon on the embedded defaults, with short timeouts so a test takes seconds.
    final class World {
        let folder = Harness.temporaryFolder()
        var stateDir: String { folder + "/state" }
        var configPath: String { folder + "/config.yml" }
        var daemon: Daemon
        let client: APIClient

        static let shortTimeouts = workers()

        /// The `workers` section: short timeouts, plus `extra` settings (`runtime: podman`).
        static func workers(_ extra: String = "") -> String {
            """
            workers: {probe_interval: 1s, poll_interval: 1s, boot_timeout: 30s, probe_timeout: 6s,
                      connect_timeout: 4s, command_timeout: 10s\(extra.isEmpty ? "" : ", " + extra)}
            """
        }

        /// `config` is the YAML besides the `workers` section (short timeouts and `workers`).
        init(config: String = "dispatcher_id: e2e\nscheduling: {idle_timeout: 2s}", workers: String = "") async throws {
            try (config + "\n" + Self.workers(workers)).write(toFile: folder + "/config.yml", atomically: true, encoding: .utf8)
            daemon = try Daemon(stateDir: folder + "/state", extra: ["--config", folder + "/config.yml"], dispatch: true)
            guard await daemon.ready() else { throw HarnessError("daemon did not start: \(daemon.log)") }
            client = try daemon.client()
        }

        /// A new daemon process on the same configuration and state (after a crash).
        func restart() async throws {
            daemon = try Daemon(stateDir: stateDir, extra: ["--config", configPath], dispatch: true)
            guard await daemon.ready() else { throw HarnessError("daemon did not restart: \(daemon.log)") }
        }

        var currentClient: APIClient { get throws { try daemon.client() } }

        func submit(_ command: [String], vcpus: Int = 1, ram: Int64 = 256 << 20) async throws -> String {
            var spec = ContainerSpec(command: command)
            spec.runtimeConstraints.vcpus = vcpus
            spec.runtimeConstraints.ram = ram
            return try await currentClient.submit([spec])[0].uuid
        }

        /// Waits until `uuid` is in `state` (or the time runs out); returns the record.
        func wait(_ uuid: String, _ states: Set<ContainerState>, seconds: Double = 60) async throws -> Container {
            let deadline = Date().addingTimeInterval(seconds)
            var last = try await currentClient.get(uuid)
            while !states.contains(last.state) && Date() < deadline {
                try await Task.sleep(for: .milliseconds(100))
                last = try await currentClient.get(uuid)
            }
            return last
        }

        /// sshd processes of this daemon's loopback instances.
        var instanceSSHDs: [Int32] { Harness.processes(mentioning: stateDir + "/loopback").filter { Harness.commandLine($0).hasPrefix("sshd") } }

        /// Processes whose command line mentions `marker` (the containers of a test); their
        /// children are found with `Harness.descendants`.
        func containers(_ marker: String) -> [Int32] { Harness.processes(mentioning: marker).filter { !Harness.commandLine($0).contains("cloud-dispatch") } }

        deinit {
            // Whatever a failed test left: the instances' sshds and their sessions.
            daemon.stopWithoutWaiting { [stateDir, folder] in
                Daemon.killInstanceSSHDs(of: stateDir)
                try? FileManager.default.removeItem(atPath: folder)
            }
        }
    }

    @Test func containersRunToCompletionAndIdleInstancesAreShutDown() async throws {
        let world = try await World()
        let ok = try await world.submit(["sh", "-c", "echo hello from the worker"])
        let failing = try await world.submit(["sh", "-c", "echo about to fail >&2; exit 3"])
        let big = try await world.submit(["sh", "-c", "echo big"], vcpus: 3, ram: 4 << 30)

        let done = try await world.wait(ok, [.complete, .cancelled])
        #expect(done.state == .complete)
        #expect(done.exitCode == 0)
        #expect(try await world.client.log(ok).contains("hello from the worker"))
        #expect(done.instance?.hasPrefix("local-small ") == true, "ran on \(done.instance ?? "nothing")")
        #expect(done.cost > 0)

        let failed = try await world.wait(failing, [.complete, .cancelled])
        #expect(failed.state == .complete)
        #expect(failed.exitCode == 3)
        #expect(try await world.client.log(failing).contains("about to fail"))

        let large = try await world.wait(big, [.complete, .cancelled])
        #expect(large.exitCode == 0)
        #expect(large.instance?.hasPrefix("local-large ") == true, "ran on \(large.instance ?? "nothing")")

        // explain: why it ended, and why it could not run anywhere else.
        let explained = try await world.daemon.cli(["explain", big])
        #expect(explained.status == 0, "\(explained.output)")
        #expect(explained.stdout.contains("why: completed with exit code 0 on local-large"), "\(explained.stdout)")
        #expect(explained.stdout.contains("too small: 3 vCPUs > 1"), "\(explained.stdout)")
        let impossible = try await world.submit(["true"], vcpus: 64)
        #expect(try await world.wait(impossible, [.cancelled]).state == .cancelled)
        let why = try await world.client.explain(impossible)
        #expect(why.summary.hasPrefix("cancelled: cannot run: no instance type fits"), "\(why.summary)")
        #expect(why.types.allSatisfy { !$0.eligible && $0.reason.contains("64 vCPUs > ") }, "\(why.types)")

        // Nothing needs the instances any more: they are shut down after the idle timeout.
        #expect(await Harness.eventually(20) { world.instanceSSHDs.isEmpty }, "instances left running: \(world.instanceSSHDs)")
    }

    @Test func aContainerCancelledWhileRunningIsStoppedOnItsWorker() async throws {
        let world = try await World()
        let marker = "cdd-e2e-cancel-\(UInt32.random(in: 0...UInt32.max))"
        let uuid = try await world.submit(["sh", "-c", "sleep 300; echo \(marker)"])
        #expect(try await world.wait(uuid, [.running]).state == .running)
        #expect(await Harness.eventually(10) { !world.containers(marker).isEmpty })

        _ = try await world.client.cancel(uuid, reason: "test: no longer needed")
        #expect(await Harness.eventually(15) { world.containers(marker).isEmpty }, "the container still runs after its cancel")
        let record = try await world.client.get(uuid)
        #expect(record.state == .cancelled)
    }

    @Test func aRunnerKilledUnderItsContainerIsRequeuedAndRunsAgain() async throws {
        let world = try await World()
        let flag = world.folder + "/first-attempt-done"
        let marker = "cdd-e2e-runner-\(UInt32.random(in: 0...UInt32.max))"
        // The first attempt sleeps (and is killed with its runner); the second finishes at once.
        let uuid = try await world.submit(["sh", "-c", "[ -e \(flag) ] && exit 0; touch \(flag); sleep 300; echo \(marker)"])
        #expect(try await world.wait(uuid, [.running]).state == .running)
        #expect(await Harness.eventually(10) { !world.containers(marker).isEmpty })
        for pid in world.containers(marker) {
            let supervisor = Harness.parent(of: pid)
            kill(supervisor, SIGKILL)  // the runner dies without writing a result …
            for p in [pid] + Harness.descendants(of: pid) { kill(p, SIGKILL) }  // … and its container with it
        }
        let record = try await world.wait(uuid, [.complete, .cancelled], seconds: 40)
        #expect(record.state == .complete)
        #expect(record.exitCode == 0)
        #expect(record.lockCount == 1, "attempts that ended without a result: \(record.lockCount)")
        #expect(record.runtimeStatus.warning?.contains("ended without a result") == true, "\(record.runtimeStatus)")
    }

    @Test func anInstanceThatDiesIsReplacedAndItsContainerRunsAgain() async throws {
        let world = try await World()
        let flag = world.folder + "/first-attempt-done"
        let marker = "cdd-e2e-vm-\(UInt32.random(in: 0...UInt32.max))"
        let uuid = try await world.submit(["sh", "-c", "[ -e \(flag) ] && exit 0; touch \(flag); sleep 300; echo \(marker)"])
        let running = try await world.wait(uuid, [.running])
        #expect(running.state == .running)
        #expect(await Harness.eventually(10) { !world.containers(marker).isEmpty })
        let firstInstance = running.instance

        // The VM dies: its sshd with every session, the runner, and what ran on it.
        let doomed = world.instanceSSHDs.flatMap { [$0] + Harness.descendants(of: $0) }
            + world.containers(marker).flatMap { [Harness.parent(of: $0), $0] + Harness.descendants(of: $0) }
        for pid in doomed { kill(pid, SIGKILL) }

        let record = try await world.wait(uuid, [.complete, .cancelled], seconds: 60)
        #expect(record.state == .complete)
        #expect(record.exitCode == 0)
        #expect(record.instance != firstInstance, "ran again on the dead instance")
        #expect(await Harness.eventually(20) { world.instanceSSHDs.isEmpty }, "instances left running: \(world.instanceSSHDs)")
    }

    @Test func aDaemonKilledMidRunAdoptsItsInstancesLosesNothingAndRunsNothingTwice() async throws {
        let world = try await World()
        let runs = world.folder + "/runs"
        try FileManager.default.createDirectory(atPath: runs, withIntermediateDirectories: true)
        var uuids: [String] = []
        for i in 0..<4 {
            uuids.append(try await world.submit(["sh", "-c", "echo run >> \(runs)/\(i); sleep 4"]))
        }
        for uuid in uuids { #expect(try await world.wait(uuid, [.running]).state == .running) }

        await world.daemon.crash()
        try await world.restart()

        for uuid in uuids {
            let record = try await world.wait(uuid, [.complete, .cancelled], seconds: 40)
            #expect(record.state == .complete, "\(uuid): \(record.state) \(record.runtimeStatus.error ?? "")")
            #expect(record.exitCode == 0)
        }
        for i in 0..<4 {
            let lines = (try? String(contentsOfFile: "\(runs)/\(i)", encoding: .utf8))?.split(separator: "\n").count ?? 0
            #expect(lines == 1, "container \(i) ran \(lines) times")
        }
        #expect(await Harness.eventually(20) { world.instanceSSHDs.isEmpty }, "instances left running: \(world.instanceSSHDs)")
    }

    @Test func anOperatorSeesInstancesAndTheQueueHoldsAndKills() async throws {
        let world = try await World()
        let flag = world.folder + "/first-attempt-done"
        let marker = "cdd-e2e-ops-\(UInt32.random(in: 0...UInt32.max))"
        let uuid = try await world.submit(["sh", "-c", "[ -e \(flag) ] && exit 0; touch \(flag); sleep 300; echo \(marker)"])
        #expect(try await world.wait(uuid, [.running]).state == .running)

        let instances = try await world.client.instances()
        #expect(instances.count == 1)
        let first = try #require(instances.first)
        #expect(first.runningContainers == [uuid] && first.workerState == "running" && first.instanceType == "local-small")
        #expect(try await world.client.schedulerQueue().first { $0.uuid == uuid }?.state == "Running on \(first.id)")
        let table = try await world.daemon.cli(["instances"])
        #expect(table.status == 0 && table.stdout.contains(first.id), "\(table.output)")

        // Killing the instance sends its container back to the queue; it runs again elsewhere.
        let kill = try await world.daemon.cli(["kill", first.id, "--reason", "test: bad disk"])
        #expect(kill.status == 0, "\(kill.output)")
        let record = try await world.wait(uuid, [.complete, .cancelled], seconds: 40)
        #expect(record.state == .complete && record.exitCode == 0)
        #expect(record.runtimeStatus.warning?.contains("killed by an operator: test: bad disk") == true, "\(record.runtimeStatus)")
        #expect(record.instance?.contains(first.id) == false)
        #expect(await Harness.eventually(10) { world.containers(marker).isEmpty }, "the first attempt still runs on the killed instance")

        // A held instance outlives the idle timeout; back to run, it is shut down.
        let second = try #require(try await world.client.instances().first { $0.id != first.id })
        #expect(try await world.daemon.cli(["hold", second.id]).status == 0)
        // A witness instead of a sleep: a container the held instance may not take boots a third
        // instance, idle only after the held one was. The pass that shuts the witness down for
        // its idle time would have shut the held one down too, had the hold not kept it.
        let witnessed = try await world.submit(["true"])
        let witness = try await world.wait(witnessed, [.complete, .cancelled])
        #expect(witness.state == .complete && witness.instance?.contains(second.id) == false, "\(witness.instance ?? "nowhere")")
        let witnessInstance = try #require(witness.instance)  // "TYPE ID"
        #expect(await Harness.eventually(60) { (try? await world.client.instances().contains { witnessInstance.contains($0.id) }) == false },
                "the witness was not shut down for its idle time")
        #expect(try await world.client.instances().contains { $0.id == second.id && $0.idleBehavior == "hold" })
        #expect(try await world.daemon.cli(["run", second.id]).status == 0)
        #expect(await Harness.eventually(20) { world.instanceSSHDs.isEmpty }, "instances left running: \(world.instanceSSHDs)")
    }

    @Test func aGracefulStopLeavesInstancesRunningForTheNextStart() async throws {
        let world = try await World()
        let runs = world.folder + "/runs"
        let uuid = try await world.submit(["sh", "-c", "echo run >> \(runs); sleep 3"])
        #expect(try await world.wait(uuid, [.running]).state == .running)
        let before = world.instanceSSHDs
        #expect(before.count == 1)

        #expect(await world.daemon.stop() == 0, "SIGTERM should end the daemon cleanly")
        #expect(world.instanceSSHDs == before, "a graceful stop shut instances down")

        try await world.restart()
        let record = try await world.wait(uuid, [.complete, .cancelled], seconds: 30)
        #expect(record.state == .complete && record.exitCode == 0)
        let lines = (try? String(contentsOfFile: runs, encoding: .utf8))?.split(separator: "\n").count ?? 0
        #expect(lines == 1, "ran \(lines) times")
        #expect(await Harness.eventually(20) { world.instanceSSHDs.isEmpty }, "instances left running: \(world.instanceSSHDs)")
    }
}
