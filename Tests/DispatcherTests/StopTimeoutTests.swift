import Queue
import Testing

/// A container that must stop but will not: asked again every round, then its worker drained.
@Suite struct StopTimeoutTests {
    @Test func aContainerThatIgnoresTermGetsItsWorkerDrainedAndIsCancelledWithAReason() async throws {
        try await withWorld(await SimWorld(bootDelay: 30...30) { $0.termTimeout = 120 }) { world in
            let uuid = try await world.submit(1, seconds: 1200)[0]
            #expect(try await world.run { try await world.store.get(uuid).state == .running })
            let worker = try #require(try await world.store.get(uuid).instance?.split(separator: " ").last.map(String.init))
            world.executor.ignoreStop(uuid)
            _ = try await world.store.apply(.setPriority(0), to: uuid)
            let askedAt = world.now

            #expect(try await world.run { try await world.store.get(uuid).state == .cancelled })
            #expect(world.now - askedAt >= 120, "not before term_timeout")
            #expect(world.executor.stopRequests(uuid) >= 12, "asked again every round (\(world.executor.stopRequests(uuid)))")
            let reason = try await world.store.get(uuid).runtimeStatus.error ?? ""
            #expect(reason.contains("did not stop within 120s") && reason.contains(worker), "\(reason)")
            let tags = try await world.listedInstances().first { $0.id == worker }?.tags
            #expect(tags?["cloud-dispatch-idle-behavior"] == "drain", "the drain is tagged, so it survives a restart")

            // New work goes elsewhere; the drained worker goes once the container finally ends.
            let next = try await world.submit(1, seconds: 60)[0]
            #expect(try await world.run { try await world.store.get(next).state == .complete })
            #expect(try await world.store.get(next).instance?.hasSuffix(" " + worker) == false)
            #expect(try await world.listedInstances().contains { $0.id == worker }, "kept while the container still runs")
            #expect(try await world.run { try await world.listedInstances().isEmpty })
            #expect(world.executor.violations.isEmpty)
        }
    }

    @Test func aWorkerWhoseContainerNeverDiesIsShutDownAfterTwiceTheTermTimeout() async throws {
        try await withWorld(await SimWorld(bootDelay: 30...30) { $0.termTimeout = 120 }) { world in
            let uuid = try await world.submit(1, seconds: 1_000_000)[0]
            #expect(try await world.run { try await world.store.get(uuid).state == .running })
            world.executor.ignoreStop(uuid)
            _ = try await world.store.apply(.cancel(reason: "user"), to: uuid)
            let askedAt = world.now
            #expect(try await world.run { try await world.listedInstances().isEmpty }, "a VM kept forever for a container that will not die")
            #expect(world.now - askedAt >= 240, "not before twice term_timeout (\(world.now - askedAt) s)")
            #expect(try await world.store.get(uuid).state == .cancelled)
            #expect(try await world.store.get(uuid).runtimeStatus.error == "user", "the user's reason stands")
        }
    }

    @Test func aContainerThatStopsInTimeLeavesItsWorkerInService() async throws {
        try await withWorld(await SimWorld()) { world in
            let uuid = try await world.submit(1, seconds: 1200)[0]
            #expect(try await world.run { try await world.store.get(uuid).state == .running })
            _ = try await world.store.apply(.cancel(reason: "user"), to: uuid)
            #expect(try await world.run { await world.dispatcher.pool.runningContainers.isEmpty })
            #expect(try await world.store.get(uuid).runtimeStatus.error == "user", "the user's reason stands")
            #expect(try await world.listedInstances().allSatisfy { $0.tags["cloud-dispatch-idle-behavior"] == "run" })
        }
    }
}
