import Scheduler
import Testing

/// What each class of create error means for the next creates (docs/driver-abi.md).
@Suite struct ErrorClassBackoffTests {
    @Test func throttledAgainAndAgainTheWaitGrowsPastTheDriversHint() {
        var backoff = Backoff()
        var waits: [Double] = []
        for _ in 0..<6 {
            backoff.record(.rateLimit(retryAfter: 2), type: small, now: 0)
            waits.append(backoff.allUntil! - 0)
            backoff.allUntil = nil
        }
        #expect(waits.allSatisfy { $0 >= 2 }, "the hint is a floor: \(waits)")
        #expect(waits.last! > 4 * waits.first!, "repeated throttles back off further: \(waits)")
        #expect(waits.last! <= backoff.maxDelay * 1.2)
    }

    @Test func anInvalidTypeIsNotTriedAgainUntilAReloadAndItsContainersGoElsewhere() {
        var backoff = Backoff()
        backoff.record(.invalid("ec2.create: invalid [InvalidAMIID.NotFound]: no image ami-1"), type: small, now: 0)
        #expect(backoff.blocked(small, now: 1_000_000)?.hasPrefix("the cloud refused to create small: ec2.create: invalid [InvalidAMIID.NotFound]") == true)
        #expect(backoff.blocked(medium, now: 0) == nil)
        let p = plan([demand("a")], types: [small, medium], factor: 3, backoff: backoff)
        #expect(p.creates == ["medium": 1], "the next type in the band serves it")
        backoff.configurationChanged()
        #expect(backoff.blocked(small, now: 0) == nil)
    }

    @Test func aContainerEveryFittingTypeOfWhichIsRefusedIsCancelledWithTheReason() {
        var backoff = Backoff()
        backoff.record(.invalid("sim.create: invalid: unknown type"), type: small, now: 0)
        let p = plan([demand("a"), demand("b", vcpus: 3)], types: [small, medium], factor: 1, backoff: backoff)
        #expect(p.cancels.map(\.id) == ["a"])
        #expect(p.cancels.first?.reason == "the cloud refuses to create every instance type that fits it: small: sim.create: invalid: unknown type")
        #expect(p.creates == ["medium": 1])
    }

    @Test func refusedCredentialsStopEveryCreateUntilAListingWorks() {
        var backoff = Backoff()
        backoff.record(.auth("ec2.create: auth [AuthFailure]"), type: small, now: 0)
        #expect(backoff.blocked(medium, now: 1_000_000)?.hasPrefix("the cloud refuses the credentials") == true)
        #expect(backoff.createProblem == "stopped: the cloud refuses the credentials (ec2.create: auth [AuthFailure])")
        #expect(plan([demand("a")], backoff: backoff).creates.isEmpty)
        backoff.recordListSuccess()
        #expect(backoff.blocked(medium, now: 0) == nil && backoff.createProblem == nil)
    }
}

/// Instances being shut down are still instances until a listing no longer shows them.
@Suite struct ShuttingDownInstancesTests {
    @Test func anInstanceBeingShutDownCountsAgainstMaxInstancesAndTakesNothing() {
        let p = plan([demand("a"), demand("b")], [worker("w1", small, .shutdown), worker("w2", small, .shutdown)],
                     types: [small], limits: Limits(maxInstances: 3))
        #expect(p.creates == ["small": 1], "3 instances at most: 2 still going, 1 new")
        #expect(p.starts.isEmpty)
    }
}
