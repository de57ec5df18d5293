import APIClient
import Foundation
import Queue
import Testing
import TestSupport

/// One dispatch end to end through real podman: `serve` with the loopback driver and
/// `workers.runtime: podman`, containers submitted with `--image` by the CLI, each run by the
/// runner on its instance as `podman run` of a local busybox image.
@Suite(.serialized, .enabled(if: Podman.image != nil, "set CLOUD_DISPATCH_TEST_PODMAN_IMAGE (make test does)"))
struct PodmanDispatchTests {
    let image = Podman.image ?? ""

    func submit(_ world: EndToEndTests.World, _ options: [String], _ command: [String]) async throws -> String {
        let run = try await world.daemon.cli(["submit", "--image", image] + options + ["--"] + command)
        try #require(run.status == 0, "\(run.output)")
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func containersWithAnImageRunThroughPodman() async throws {
        let world = try await EndToEndTests.World(config: "dispatcher_id: e2e-podman\nscheduling: {idle_timeout: 2s}",
                                                  workers: "runtime: podman")
        let greeting = try await submit(world, ["--env", "GREETING=hello", "--cwd", "/tmp"],
                                  ["sh", "-c", "echo \"$GREETING from $(pwd)\"; [ -e /usr/bin/apt-get ] || echo in the image; exit 3"])
        let stubborn = try await submit(world, ["--max-run-time", "1s"], ["sh", "-c", "trap '' TERM; echo stubborn; while :; do sleep 1; done"])
        let cancelled = try await submit(world, [], ["sh", "-c", "echo waiting; exec sleep 300"])
        defer { for uuid in [greeting, stubborn, cancelled] { Podman.remove("cdd-" + uuid) } }

        // Exit code, environment and working folder, from inside the image.
        let done = try await world.wait(greeting, [.complete, .cancelled], seconds: 120)
        #expect(done.state == .complete && done.exitCode == 3, "\(done)")
        let log = try await world.client.log(greeting)
        #expect(log.contains("hello from /tmp\nin the image\n"), "\(log)")

        // Cancelled while running: the podman container goes.
        #expect(try await world.wait(cancelled, [.running], seconds: 120).state == .running)
        #expect(await Harness.eventually(60) { await !Podman.containers(named: "cdd-" + cancelled).isEmpty }, "podman never ran it")
        let cancel = try await world.daemon.cli(["cancel", cancelled, "--reason", "test: not needed"])
        #expect(cancel.status == 0, "\(cancel.output)")
        #expect(await Harness.eventually(60) { await Podman.containers(named: "cdd-" + cancelled).isEmpty }, "the container outlived its cancel")
        #expect(try await world.client.get(cancelled).state == .cancelled)

        // max_run_time on a container that ignores TERM: KILL after the grace, then cancelled with the reason.
        let ended = try await world.wait(stubborn, [.complete, .cancelled], seconds: 120)
        #expect(ended.state == .cancelled, "\(ended)")
        #expect(ended.runtimeStatus.error?.contains("exceeded max_run_time of 1 s") == true, "\(ended.runtimeStatus)")
        #expect(await Harness.eventually(60) { await Podman.containers(named: "cdd-" + stubborn).isEmpty }, "the container outlived max_run_time")

        #expect(await Harness.eventually(60) { world.instanceSSHDs.isEmpty }, "instances left running: \(world.instanceSSHDs)")
    }
}
