import Foundation
import Testing
import TestSupport

/// The runner contract through real podman (runtime `podman`, a local busybox image): what a
/// container with an image sees and how it ends. The fake `docker` in ContractTests covers only
/// what podman cannot show here (docker's `--gpus`, `auto` choosing docker first).
@Suite(.serialized, .enabled(if: Podman.image != nil, "set CLOUD_DISPATCH_TEST_PODMAN_IMAGE (make test does)"))
struct PodmanContractTests {
    let image = Podman.image ?? ""

    /// A node whose runner has a variable of its own, to show it does not leak into containers.
    /// Its PATH is the one sshd gives root: podman's default network needs `iptables` (/usr/sbin).
    func node() -> RunnerNode {
        RunnerNode(environment: ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "RUNNER_ONLY": "secret"])
    }

    func detach(_ node: RunnerNode, _ uuid: String, _ command: [String], _ extra: [String: Any] = [:]) async throws {
        try await node.detach(uuid, command, ["image": image, "runtime": "podman"].merging(extra) { $1 })
    }

    @Test func exitCodesAndSignalsComeBackThroughPodman() async throws {
        let node = node()
        defer { node.cleanup() }
        try await detach(node, "pm-exit-7", ["sh", "-c", "exit 7"])
        try await detach(node, "pm-self-kill", ["sh", "-c", "kill -USR1 $$"])
        #expect(await node.waitFor("pm-exit-7 done", seconds: 60))
        #expect(await node.waitFor("pm-self-kill done", seconds: 60))
        let exited = try await node.status("pm-exit-7")
        #expect(exited["exit_code"] as? Int == 7 && exited["signal"] is NSNull && exited["reason"] is NSNull, "\(exited)")
        let killed = try await node.status("pm-self-kill")
        #expect(killed["exit_code"] as? Int == 128 + 10 && killed["signal"] as? Int == 10, "\(killed)")
        #expect(await Podman.containers(named: "cdd-pm-").isEmpty, "--rm removes them")
    }

    @Test func theContainerSeesTheSpecsEnvironmentAndFolderOnly() async throws {
        let node = node()
        defer { node.cleanup() }
        try await detach(node, "pm-env", ["sh", "-c", "echo \"$A|$B|${RUNNER_ONLY:-unset}\"; pwd"],
                   ["environment": ["A": "1", "B": "two words"], "cwd": "/tmp"])
        try await detach(node, "pm-default-cwd", ["pwd"])
        #expect(await node.waitFor("pm-env done", seconds: 60))
        #expect(await node.waitFor("pm-default-cwd done", seconds: 60))
        #expect(try await node.status("pm-env")["log_tail"] as? String == "1|two words|unset\n/tmp\n")
        #expect(try await node.status("pm-default-cwd")["log_tail"] as? String == "/\n", "the image's folder, not the runner's state folder")
    }

    @Test func killTermStopsTheContainer() async throws {
        let node = node()
        defer { node.cleanup(); Podman.remove("cdd-pm-kill") }
        try await detach(node, "pm-kill", ["sh", "-c", "echo ready; exec sleep 300"])
        #expect(await Harness.eventually(60) { (try? await node.status("pm-kill"))?["log_tail"] as? String == "ready\n" })
        #expect(await node.kill("TERM", "pm-kill", seconds: 60))
        let status = try await node.status("pm-kill")
        #expect(status["exit_code"] as? Int == 143 && status["signal"] as? Int == 15, "\(status)")
        #expect(await Harness.eventually(30) { await Podman.containers(named: "cdd-pm-kill").isEmpty }, "the container is gone")
    }

    /// TERM is ignored; the runner says so, and KILL ends it.
    @Test func aContainerThatIgnoresTermIsKilled() async throws {
        let node = node()
        defer { node.cleanup(); Podman.remove("cdd-pm-stubborn") }
        try await detach(node, "pm-stubborn", ["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"])
        #expect(await Harness.eventually(60) { (try? await node.status("pm-stubborn"))?["log_tail"] as? String == "ready\n" })
        #expect(try await node.run(["--kill", "TERM", "pm-stubborn"]).status == 1, "still running after TERM")
        #expect(await node.list() == ["pm-stubborn"])
        #expect(await node.kill("KILL", "pm-stubborn", seconds: 60))
        let status = try await node.status("pm-stubborn")
        #expect(status["signal"] as? Int == 9, "\(status)")
        #expect(await Harness.eventually(30) { await Podman.containers(named: "cdd-pm-stubborn").isEmpty }, "the container is gone")
    }

    /// max_run_time: TERM, and for a container that ignores it, KILL after the grace period.
    @Test func maxRunTimeEndsEvenAContainerThatIgnoresTerm() async throws {
        let node = node()
        defer { node.cleanup(); Podman.remove("cdd-pm-polite"); Podman.remove("cdd-pm-deaf") }
        try await detach(node, "pm-polite", ["sleep", "300"], ["max_run_time": 1])
        try await detach(node, "pm-deaf", ["sh", "-c", "trap '' TERM; while :; do sleep 1; done"], ["max_run_time": 1])
        #expect(await node.waitFor("pm-polite done", seconds: 60))
        #expect(await node.waitFor("pm-deaf done", seconds: 90))
        let polite = try await node.status("pm-polite")
        #expect(polite["reason"] as? String == "exceeded max_run_time of 1 s" && polite["signal"] as? Int == 15, "\(polite)")
        let deaf = try await node.status("pm-deaf")
        #expect(deaf["reason"] as? String == "exceeded max_run_time of 1 s" && deaf["signal"] as? Int == 9, "\(deaf)")
        let ran = (deaf["finished_at"] as? Double ?? 0) - (deaf["started_at"] as? Double ?? 0)
        #expect(ran >= 1 + 10, "KILL only after the 10 s grace (ran \(ran) s)")
        #expect(await Harness.eventually(30) { await Podman.containers(named: "cdd-pm-").isEmpty }, "the containers are gone")
    }

    /// Signals that come while podman is still creating the container (right after --detach)
    /// reach the container once it exists. A TERM to `podman run` itself at that moment made it
    /// exit 0 and leave the container running, unwatched.
    @Test func signalsDuringPodmansStartReachTheContainer() async throws {
        let node = node()
        defer { node.cleanup(); Podman.remove("cdd-pm-early-kill"); Podman.remove("cdd-pm-early-stop") }
        try await detach(node, "pm-early-kill", ["sleep", "300"])
        #expect(await node.kill("TERM", "pm-early-kill", seconds: 60))
        let killed = try await node.status("pm-early-kill")
        #expect(killed["exit_code"] as? Int == 143 && killed["signal"] as? Int == 15, "\(killed)")

        // The supervisor itself stopped (as on shutdown): it passes the TERM on the same way.
        let supervisor = try await node.detach("pm-early-stop", ["sleep", "300"], ["image": image, "runtime": "podman"])
        #expect(kill(supervisor, SIGTERM) == 0)
        #expect(await node.waitFor("pm-early-stop done", seconds: 60))
        let stopped = try await node.status("pm-early-stop")
        #expect(stopped["reason"] as? String == "the runner was stopped by SIGTERM" && stopped["signal"] as? Int == 15, "\(stopped)")
        #expect(await Harness.eventually(30) { await Podman.containers(named: "cdd-pm-early").isEmpty }, "no container left running")
    }

    @Test func anImagePodmanDoesNotHaveEndsWithItsError() async throws {
        let node = node()
        defer { node.cleanup() }
        try await node.detach("pm-no-image", ["true"], ["image": "localhost/cdd-no-such-image:0", "runtime": "podman"])
        #expect(await node.waitFor("pm-no-image done", seconds: 60))
        let status = try await node.status("pm-no-image")
        #expect(status["exit_code"] as? Int == 125, "podman's own failure: \(status)")
        #expect((status["log_tail"] as? String ?? "").contains("cdd-no-such-image"), "\(status)")
    }
}
