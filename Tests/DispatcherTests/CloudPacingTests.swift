import Scheduler
import Testing
import WorkerPool

@Suite struct TokenBucketTests {
    @Test func aBurstGoesAtOnceThenTheRateHolds() {
        var bucket = TokenBucket(rate: 2, burst: 3)
        let grants = (0..<7).map { _ in bucket.reserve(now: 100) }
        #expect(grants == [100, 100, 100, 100.5, 101, 101.5, 102])
        #expect(bucket.reserve(now: 200) == 200, "refilled after a quiet spell")
    }

    @Test func noLimitWhenTheRateIsZero() {
        var bucket = TokenBucket(rate: 0, burst: 1)
        #expect((0..<5).map { _ in bucket.reserve(now: 7) } == [7, 7, 7, 7, 7])
    }
}

/// One bucket for all cloud calls, and creates/destroys in as few calls as the driver allows.
@Suite struct CloudPacingTests {
    /// Calls in any window never exceed the burst plus the rate times the window.
    static func conforms(_ grants: [Double], rate: Double, burst: Double) -> Bool {
        let g = grants.sorted()
        for j in g.indices {
            for i in 0..<j where Double(j - i + 1) > burst + rate * (g[j] - g[i]) + 1e-6 { return false }
        }
        return true
    }

    @Test func createsAreSplitByMaxCreateCountAndIdleInstancesGoInBatchDestroys() async throws {
        let limits = Limits(maxInstances: 20, maxConcurrentCreates: 8, idleTimeout: 120)
        try await withWorld(await SimWorld(limits: limits, bootDelay: 30...30) { s in
            s.maxCreateCount = 3
            s.maxDestroyBatch = 5
        }) { world in
            try await world.submit(16, seconds: 600, vcpus: 2)  // one per small instance
            #expect(try await world.run { try await world.allFinal() })
            #expect(try await world.run { try await world.listedInstances().isEmpty })
            let counts = world.cloud.snapshot
            let created = counts.createSizes.reduce(0, +)
            #expect(created == 16, "one instance per container: \(counts.createSizes)")
            #expect(counts.createSizes.allSatisfy { $0 <= 3 })
            #expect(counts.createSizes.count == 6, "two rounds of 8, each 3+3+2: \(counts.createSizes)")
            #expect(counts.mostConcurrentCreates <= 8)
            #expect(counts.destroySizes.allSatisfy { $0 <= 5 })
            #expect(counts.destroySizes.reduce(0, +) >= 16)
            #expect(counts.destroySizes.count < 16, "idle instances went together: \(counts.destroySizes)")
            print("batching: \(created) instances in \(counts.createSizes.count) create calls, \(counts.destroySizes.reduce(0, +)) destroyed in \(counts.destroySizes.count) calls")
        }
    }

    @Test func everyCloudCallWaitsForATokenOnTheVirtualClock() async throws {
        let rate = 0.2, burst = 3.0
        let sim = #"{"seed": 3, "create_failure_rate": 0.1, "rate_limit_rate": 0.05}"#
        try await withWorld(await SimWorld(simConfig: sim) { s in
            s.cloudRate = rate
            s.cloudBurst = burst
            s.maxCreateCount = 2
            s.maxDestroyBatch = 2
            s.recordCloudCalls = true
        }) { world in
            try await world.submit(20, seconds: 300, vcpus: 2)
            let start = world.now
            #expect(try await world.run { try await world.allFinal() })
            #expect(try await world.run { try await world.listedInstances().isEmpty })
            let pool = await world.dispatcher.pool.cloudCalls
            let reached = world.cloud.snapshot.calls.values.reduce(0, +)
            #expect(pool.grants.count == reached, "every call that reached the cloud had a token")
            #expect(Self.conforms(pool.grants, rate: rate, burst: burst), "the rate was never exceeded")
            #expect(pool.grants.max()! > start, "calls waited on the virtual clock")
            #expect(try await world.all().allSatisfy { $0.state == .complete })
        }
    }
}

/// Types the configuration leaves in no quota group take the driver's answer.
@Suite struct DriverQuotaGroupTests {
    @Test func typesWithoutAGroupOfTheirOwnTakeTheDrivers() async throws {
        let types = SimWorld.types.enumerated().map { i, t in
            var t = t
            t.quotaGroup = i == 0 ? WorkerPool.unsetQuotaGroup : "mine"  // the first left unset, the second set by the operator
            return t
        }
        try await withWorld(await SimWorld(types: types)) { world in
            await world.dispatcher.tickAndSettle(now: world.now)
            let groups = Dictionary(uniqueKeysWithValues: world.dispatcher.eligibility.types.map { ($0.name, $0.quotaGroup) })
            #expect(groups == ["small": "sim", "large": "mine"], "\(groups)")
        }
    }
}
