import Scheduler
import Testing

/// The rules of `BootFailures`, one by one.
@Suite struct BootFailuresTests {
    @Test func wavesBackOffExponentiallyAndTheThirdMarksTheTypeNotBooting() {
        var boot = BootFailures()
        var becameNotBooting = boot.failed("small", cause: "no SSH", now: 0)
        #expect(!becameNotBooting)
        #expect(boot.blocked("small", now: 59)?.contains("small did not boot (no SSH); next trial at 00:01:00") == true)
        #expect(boot.blocked("small", now: 60) == nil, "the back-off ended: one trial")
        becameNotBooting = boot.failed("small", cause: "no SSH", now: 10)
        #expect(!becameNotBooting, "failures of the same launch are one wave")
        #expect(boot.streaks["small"]?.waves == 1)
        becameNotBooting = boot.failed("small", cause: "no SSH", now: 100)
        #expect(!becameNotBooting)
        #expect(boot.streaks["small"]?.until == 220, "60 s, then 120 s")
        becameNotBooting = boot.failed("small", cause: "identity mismatch", now: 300)
        #expect(becameNotBooting, "the third wave: not booting")
        #expect(boot.blocked("small", now: 301)?.hasPrefix("not booting: small did not boot 3 times in a row (identity mismatch)") == true)
        #expect(boot.problem(now: 301) == "not booting: small (identity mismatch)")
        #expect(boot.blocked("large", now: 301) == nil, "another type is not affected")
    }

    @Test func theDelayIsCapped() {
        var boot = BootFailures()
        var now = 0.0
        for _ in 0..<20 {
            boot.failed("small", cause: "no SSH", now: now)
            now = boot.streaks["small"]!.until
        }
        boot.failed("small", cause: "no SSH", now: now)
        #expect(boot.streaks["small"]!.until - now == boot.maxDelay)
    }

    @Test func aTrialBlocksFurtherCreatesUntilItAnswersAndABootEndsTheStreak() {
        var boot = BootFailures()
        boot.failed("small", cause: "no SSH", now: 0)
        #expect(boot.trialOnly("small"))
        boot.trialCreated("small")
        #expect(boot.blocked("small", now: 1000) == "small did not boot (no SSH); a trial instance is booting")
        boot.failed("small", cause: "no SSH", now: 1000)
        #expect(boot.streaks["small"]?.waves == 2, "the trial's failure is a wave of its own")
        boot.booted("small")
        #expect(boot.streaks["small"] == nil && !boot.trialOnly("small"))
    }

    @Test func theCeilingStopsEveryTypeForAnHour() {
        var boot = BootFailures()
        boot.maxPerHour = 3
        for i in 0..<3 { boot.failed("t\(i)", cause: "no SSH", now: Double(i)) }
        #expect(boot.blocked("other", now: 10)?.hasPrefix("3 instances did not boot in the last hour (ceiling 3); no creates until 01:00:00") == true)
        #expect(boot.blocked("other", now: 3600) == nil, "the oldest failure is an hour old")
        boot.reset()
        #expect(boot.blocked("t0", now: 10) == nil && boot.recent.isEmpty)
    }
}
