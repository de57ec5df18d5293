import APIClient
import Foundation
import Queue
import TestSupport
import Testing

/// `kill -9` of the daemon, again and again while it runs a queue on loopback VMs: nothing
/// acknowledged is lost, nothing runs twice, nothing is left running. On both stores.
@Suite(.serialized) struct KillLoopTests {
    enum Store: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    static let containers = 60
    static let kills = 10

    @Test(arguments: Store.allCases)
    func tenKillsMidRunLoseNothingAndRunNothingTwice(store: Store) async throws {
        let queue = store == .sqlite ? "sqlite" : try await PostgresScratch.database()
        // Few instances, so the queue takes long enough to be killed in the middle ten times.
        let world = try await EndToEndTests.World(config: """
            dispatcher_id: kill-loop
            queue: {store: "\(queue)"}
            scheduling: {idle_timeout: 2s, max_instances: 4, max_containers_per_instance: 2}
            """)
        let runs = world.folder + "/runs"
        let release = world.folder + "/release"
        for folder in [runs, release] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        // Each container runs until the test releases it (or all): the queue cannot end before
        // the tenth kill however fast or slow the machine is, and a kill always finds some running.
        // (At most 10 minutes, so a test killed midway leaves nothing running for long.)
        var specs: [ContainerSpec] = []
        for i in 0..<Self.containers {
            var spec = ContainerSpec(command: ["sh", "-c", "echo run >> \(runs)/\(i); "
                                               + "n=0; while [ ! -e \(release)/\(i) ] && [ ! -e \(release)/all ] && [ $n -lt 12000 ]; do sleep 0.05; n=$((n+1)); done"])
            spec.runtimeConstraints.vcpus = 1
            spec.runtimeConstraints.ram = 256 << 20
            specs.append(spec)
        }
        let uuids = try await world.currentClient.submit(specs).map(\.uuid)
        #expect(uuids.count == Self.containers)
        let index = Dictionary(uniqueKeysWithValues: uuids.enumerated().map { ($1, $0) })

        var kills = 0
        var finalAtLastKill = 0
        while kills < Self.kills {
            // Mid-run: release some of the running containers (not all: one keeps running), wait
            // until one of them has ended, then kill.
            guard try await world.until(seconds: 120, { $0.running > 0 }) != nil else { break }
            let running = try await world.currentClient.listAll().filter { $0.state == .running }.compactMap { index[$0.uuid] }
            for i in running.prefix(max(1, running.count / 2)) {
                _ = FileManager.default.createFile(atPath: "\(release)/\(i)", contents: nil)
            }
            let progressed = try await world.until(seconds: 120) { counts in counts.final > finalAtLastKill }
            guard let counts = progressed, counts.final < Self.containers else { break }
            finalAtLastKill = counts.final
            await world.daemon.crash()
            kills += 1
            try await world.restart()
        }
        #expect(kills == Self.kills, "the queue ended after \(kills) kills")
        _ = FileManager.default.createFile(atPath: release + "/all", contents: nil)

        for uuid in uuids {
            let record = try await world.wait(uuid, [.complete, .cancelled], seconds: 120)
            #expect(record.state == .complete && record.exitCode == 0,
                    "\(uuid): \(record.state) exit \(record.exitCode ?? -1) \(record.runtimeStatus.error ?? "")")
        }
        var ranTwice: [Int] = []
        for i in 0..<Self.containers {
            let lines = (try? String(contentsOfFile: "\(runs)/\(i)", encoding: .utf8))?.split(separator: "\n").count ?? 0
            if lines != 1 { ranTwice.append(i) }
        }
        #expect(ranTwice.isEmpty, "containers that did not run exactly once: \(ranTwice)")
        #expect(await Harness.eventually(60) { world.instanceSSHDs.isEmpty }, "instances left running: \(world.instanceSSHDs)")
        print("kill loop (\(store.rawValue)): \(kills) kills, \(Self.containers) containers, all complete once")
    }
}

extension EndToEndTests.World {
    struct Counts {
        var running = 0
        var final = 0
    }

    /// Polls the queue until `condition` holds (the counts it was true for) or the time runs out (nil).
    func until(seconds: Double, _ condition: (Counts) -> Bool) async throws -> Counts? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var counts = Counts()
            for c in try await currentClient.listAll() {
                if c.state == .running { counts.running += 1 }
                if c.state.isFinal { counts.final += 1 }
            }
            if condition(counts) || counts.final == KillLoopTests.containers { return counts }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
