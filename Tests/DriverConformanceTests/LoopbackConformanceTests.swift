import DriverConformance
import DriverHost
import Foundation
import Synchronization
import Testing

/// The loopback driver against the conformance kit and real sshd processes.
@Suite struct LoopbackConformanceTests {
    @Test func passesTheKitAndLeavesNoSshdRunning() async throws {
        let state = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let kit = ConformanceKit(driver: try Harness.loopback(), config: #"{"state_dir": "\#(state)"}"#)
        let report = await kit.run()
        #expect(report.failed == 0, "\(report.table())")
        #expect(report.skipped == 0, "\(report.table())")
        #expect(report.check("create count=3")?.outcome == .pass)
        #expect(report.check("cleanup")?.outcome == .pass)
        #expect(Harness.processes(mentioning: state).isEmpty, "sshd processes left behind")
    }

    @Test func instancesAreRealSSHHostsWithTheirOwnRootAndInitScript() async throws {
        let state = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let key = try await Harness.sshKey(in: state)
        let set = try await Harness.loopback().openInstanceSet(id: "ssh", config: #"{"state_dir": "\#(state)"}"#)
        let request = CreateRequest(instanceType: smallType, tags: ["t": "ssh"],
                                    initScript: "echo booted > \"$CDD_INSTANCE_ROOT/booted\"", sshPublicKey: key.publicKey)
        let instance = try #require(try await set.create(request).first)
        // Destroyed before the test ends, whatever happens (a Task left in a defer would run
        // after the state folder is gone, and leak the instance's sshd).
        do {
            try await checkLogin(instance, key: key, state: state)
        } catch {
            _ = try? await set.destroy(ids: [instance.id])
            throw error
        }
        _ = try await set.destroy(ids: [instance.id])
        #expect(Harness.processes(mentioning: state).isEmpty, "sshd processes left behind")
    }

    func checkLogin(_ instance: Instance, key: (path: String, publicKey: String), state: String) async throws {
        let hostKey = try #require(instance.hostKey)
        #expect(hostKey.hasPrefix("ssh-ed25519 "))

        // Trust exactly the host key the driver reported: a mismatch would fail the login.
        let knownHosts = state + "/known_hosts"
        try "[127.0.0.1]:\(instance.sshPort!) \(hostKey)\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
        let root = state + "/ssh/instances/\(instance.id)/root"
        #expect(await Harness.eventually { FileManager.default.fileExists(atPath: root + "/booted") }, "init script ran")
        let login = try await Harness.run("/usr/bin/ssh", [
            "-i", key.path, "-p", "\(instance.sshPort!)", "-o", "UserKnownHostsFile=\(knownHosts)",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "\(instance.sshUser!)@127.0.0.1",
            "echo \"$CDD_INSTANCE_ID $CDD_INSTANCE_ROOT\"; cat \"$CDD_INSTANCE_ROOT/booted\"",
        ])
        #expect(login.status == 0, "\(login.output)")
        #expect(login.output.contains("\(instance.id) \(root)\nbooted"), "\(login.output)")

        // A key the instance was not given is refused.
        let stranger = try await Harness.sshKey(in: Harness.temporaryFolder())
        let refused = try await Harness.run("/usr/bin/ssh", [
            "-i", stranger.path, "-p", "\(instance.sshPort!)", "-o", "UserKnownHostsFile=\(knownHosts)",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "\(instance.sshUser!)@127.0.0.1", "true",
        ])
        #expect(refused.status == 255)
    }

    @Test func destroyKillsEverythingTheInstanceStarted() async throws {
        let state = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let set = try await Harness.loopback().openInstanceSet(id: "kill", config: #"{"state_dir": "\#(state)"}"#)
        // The init script leaves a detached process behind, as a runner would.
        let marker = "sleep \(Int.random(in: 100_000...999_999))"
        let request = CreateRequest(instanceType: smallType, tags: [:],
                                    initScript: "setsid \(marker) </dev/null >/dev/null 2>&1 &")
        let instance = try #require(try await set.create(request).first)
        #expect(await Harness.eventually { !Harness.processes(mentioning: marker).isEmpty }, "detached process started")
        #expect(!Harness.processes(mentioning: state + "/kill/instances/\(instance.id)/sshd_config").isEmpty)

        let result = try await set.destroy(ids: [instance.id])
        #expect(result.destroyed == [instance.id] && result.failed.isEmpty)
        #expect(await Harness.eventually(10) { Harness.processes(mentioning: marker).isEmpty }, "detached process killed")
        #expect(Harness.processes(mentioning: state).isEmpty, "sshd killed")
        #expect(try await set.list(tags: [:]).isEmpty)
    }

    @Test func instancesSurviveARestartOfTheHost() async throws {
        let state = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let config = #"{"state_dir": "\#(state)"}"#
        let before = try await Harness.loopback().openInstanceSet(id: "restart", config: config)
        let made = try await before.create(CreateRequest(instanceType: smallType, tags: ["owner": "me"], count: 2))
        await before.close()

        // A second, independent load of the driver file: nothing is shared but the state folder.
        let after = try await Harness.loopback().openInstanceSet(id: "restart", config: config)
        let listed = try await after.list(tags: ["owner": "me"])
        #expect(Set(listed.map(\.id)) == Set(made.map(\.id)))
        #expect(listed.allSatisfy { $0.state == .running && $0.tags == ["owner": "me"] })
        _ = try await after.destroy(ids: made.map(\.id))
        #expect(Harness.processes(mentioning: state).isEmpty)
    }

    @Test func withoutSshdCreateIsUnsupported() async throws {
        let state = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let set = try await Harness.loopback().openInstanceSet(
            id: "nosshd", config: #"{"state_dir": "\#(state)", "sshd_path": "/nonexistent/sshd"}"#)
        await #expect { try await set.create(CreateRequest(instanceType: smallType, tags: [:])) } throws: { error in
            guard let e = error as? DriverError else { return false }
            return e.errorClass == .unsupported && e.message == "sshd not found at /nonexistent/sshd: install openssh-server or set sshd_path"
        }
    }

    @Test func maxInstancesIsAQuota() async throws {
        let state = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        let set = try await Harness.loopback().openInstanceSet(id: "quota", config: #"{"state_dir": "\#(state)", "max_instances": 2}"#)
        let made = try await set.create(CreateRequest(instanceType: smallType, tags: [:], count: 2))
        await #expect { try await set.create(CreateRequest(instanceType: smallType, tags: [:])) } throws: { error in
            (error as? DriverError)?.errorClass == .quota
        }
        _ = try await set.destroy(ids: made.map(\.id))
    }

    @Test func badConfigNamesTheKey() async throws {
        let driver = try Harness.loopback()
        await #expect { _ = try await driver.openInstanceSet(id: "x", config: #"{"state_dir": "/tmp/x", "colour": 1}"#) } throws: { error in
            (error as? DriverError)?.message.hasPrefix("config: unknown key \"colour\"") == true
        }
        await #expect { _ = try await driver.openInstanceSet(id: "x", config: #"{"state_dir": "relative"}"#) } throws: { error in
            (error as? DriverError)?.message == "config.state_dir: required absolute path"
        }
    }
}

/// The kit itself: it must fail broken drivers and clean up when interrupted.
@Suite struct ConformanceKitTests {
    @Test func theSwiftSimDriverPassesTheKit() async throws {
        let kit = ConformanceKit(driver: try Harness.load("libcdd_sim.so", as: "libcdd_sim.so"), config: #"{"seed": 5}"#)
        let report = await kit.run()
        #expect(report.checks.allSatisfy { $0.outcome == .pass }, "\(report.table())")
        #expect(report.check("quota_group of an unknown type is invalid")?.outcome == .pass, "\(report.table())")
    }

    @Test func passesAWellBehavedDriverThatIsNotIdempotent() async throws {
        let kit = ConformanceKit(driver: try Harness.load("libfixture_misbehave.so", as: "libcdd_misbehave.so"), config: #"{"mode": "ok"}"#)
        let report = await kit.run()
        #expect(report.failed == 0, "\(report.table())")
        #expect(report.check("idempotency token")?.outcome == .skip)
    }

    @Test func failsADriverWhoseRepliesBreakTheSchema() async throws {
        var kit = ConformanceKit(driver: try Harness.load("libfixture_misbehave.so", as: "libcdd_misbehave.so"), config: #"{"mode": "schema"}"#)
        // Its listing never parses, so cleanup retries it (as it would a timeout) to its deadline.
        kit.cleanupDeadline = .seconds(1)
        let report = await kit.run()
        #expect(!report.succeeded)
        let failure = try #require(report.check("list shows it with exactly its tags"))
        #expect(failure.outcome == .fail)
        #expect(failure.detail.contains("reply breaks the list_reply schema"), "\(failure.detail)")
    }

    @Test func failsADriverThatAcceptsMalformedRequests() async throws {
        // In "too_many" mode the fixture also answers more instances than asked for.
        let kit = ConformanceKit(driver: try Harness.load("libfixture_misbehave.so", as: "libcdd_misbehave.so"), config: #"{"mode": "too_many"}"#)
        let report = await kit.run()
        #expect(report.check("create count=1")?.outcome == .fail)
        #expect(report.check("create count=1")?.detail.contains("asked for 1 instances, got 2") == true)
    }

    @Test func cleansUpAfterAnInterruption() async throws {
        let state = Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: state) }
        var kit = ConformanceKit(driver: try Harness.loopback(), config: #"{"state_dir": "\#(state)"}"#)
        let task = TaskBox()
        kit.progress = { result in
            if result.name == "create count=3" { task.cancel() }  // Ctrl-C with 4 instances up
        }
        let configured = kit
        task.start { await configured.run() }
        let report = await task.value()
        #expect(report.check("idempotency token")?.detail == "interrupted")
        #expect(report.check("cleanup")?.outcome == .pass, "\(report.table())")
        #expect(report.check("cleanup")?.detail.hasPrefix("4 leftover instances destroyed") == true, "\(report.table())")
        #expect(Harness.processes(mentioning: state).isEmpty)
    }
}

/// A task that a callback can cancel.
final class TaskBox: Sendable {
    private let task = Mutex<Task<ConformanceReport, Never>?>(nil)
    func start(_ body: @escaping @Sendable () async -> ConformanceReport) { task.withLock { $0 = Task { await body() } } }
    func cancel() { task.withLock { $0?.cancel() } }
    func value() async -> ConformanceReport { await task.withLock { $0! }.value }
}

/// A real cloud's driver creates nothing without --live.
@Suite struct LiveGateTests {
    @Test func withoutLiveTheCreatingChecksAreSkipped() async throws {
        let kit = ConformanceKit(driver: try Harness.load("libfixture_realcloud.so", as: "libcdd_realcloud.so"), config: #"{"mode": "ok"}"#)
        let report = await kit.run()
        #expect(report.failed == 0)
        #expect(report.check("create count=1") == nil)
        let gate = try #require(report.check("create and destroy"))
        #expect(gate.outcome == .skip && gate.detail.contains("run with --live"))
        #expect(report.check("cleanup")?.outcome == .skip)
    }

    @Test func withLiveEverythingRuns() async throws {
        var kit = ConformanceKit(driver: try Harness.load("libfixture_realcloud.so", as: "libcdd_realcloud.so"), config: #"{"mode": "ok"}"#)
        kit.live = true
        let report = await kit.run()
        #expect(report.failed == 0, "\(report.table())")
        #expect(report.check("create count=1")?.outcome == .pass)
        #expect(report.check("cleanup")?.outcome == .pass)
    }
}
